extension SessionKey where Value == String {
    /// The reserved key holding the session's user, which a ``SessionUserIndex`` indexes.
    ///
    /// ```swift
    /// context.session.regenerateID()          // at login
    /// context.session[.userID] = user.id
    /// ```
    public static var userID: SessionKey<String> { SessionKey(StoredSession.userIDKey) }
}
