extension Session {
    /// The logged-in user: the value of ``StoredSession/userIDKey`` (`_user_id`, as Flask-Login
    /// names it) when it is a string or an integer, otherwise `nil`.
    ///
    /// ```swift
    /// guard let userID = context.session.userID else { throw HTTPError(.unauthorized) }
    /// ```
    public var userID: String? {
        StoredSession.userID(from: rawValue(StoredSession.userIDKey))
    }

    /// Logs `userID` in, in one call (Flask-Login's `login_user`): asks for a new session ID at
    /// commit, so that an ID known before the login (a fixation attack) is dead after it, and sets
    /// `_user_id`, the key stores index users by. The rest of the session (a cart, say) is kept,
    /// unless the session belonged to another user: then it starts empty, so that nothing of the
    /// previous user's carries over (as Django's `login` does).
    ///
    /// ```swift
    /// router.post("/login") { request, context in
    ///     let user = try await users.verify(request)          // your check of the password
    ///     context.session.login(userID: user.id)
    ///     return Response(status: .seeOther, headers: [.location: "/"])
    /// }
    /// ```
    public func login(userID: String) {
        // Compared by bytes, as the stores' user indexes are: "é" composed and decomposed are
        // two users.
        if let current = self.userID, !current.utf8.elementsEqual(userID.utf8) {
            clear()
        }
        regenerateID()
        self[.userID] = userID
    }

    /// Logs out, in one call (Flask-Login's `logout_user`, and then some): ends the session at
    /// commit, so its data is dropped, a server-side record is deleted (the old cookie is dead) and
    /// the browser is told to forget the cookie.
    ///
    /// ```swift
    /// router.post("/logout") { _, context in
    ///     context.session.logout()
    ///     return Response(status: .seeOther, headers: [.location: "/"])
    /// }
    /// ```
    public func logout() {
        invalidate()
    }
}
