/// A store that can list and revoke the sessions of one user without scanning every session.
///
/// A session's user is the value of ``StoredSession/userIDKey`` (`"_user_id"`), so the index
/// follows every ``SessionStore/create(_:_:)``, ``SessionStore/apply(_:to:expiresAt:)``,
/// ``SessionStore/rename(_:to:)`` and ``SessionStore/delete(_:)``; expired sessions are never
/// listed. Listings carry storage keys (hashes), never session IDs.
///
/// ```swift
/// if let index = store as? any SessionUserIndex {
///     let devices = try await index.sessions(ofUser: "42")     // created, last seen, user agent, IP
///     try await index.revokeSessions(ofUser: "42", except: currentID.storageKey) // "log out other devices"
/// }
/// ```
public protocol SessionUserIndex: SessionStore {
    /// The live sessions of `userID`, oldest first.
    func sessions(ofUser userID: String) async throws -> [UserSessionInfo]

    /// Deletes every session of `userID` except the one under `except`, and returns how many live
    /// sessions it deleted.
    func revokeSessions(ofUser userID: String, except: SessionStorageKey?) async throws -> Int
}

extension SessionUserIndex {
    /// Sets (or with `nil` removes) the user of a live session, as a delta on ``StoredSession/userIDKey``.
    /// Returns `false` when the session is missing or expired.
    public func setUserID(_ userID: String?, for key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        let delta: SessionDelta
        if let userID {
            delta = .update(set: [StoredSession.userIDKey: SessionValue(flask: .string(userID))], remove: [])
        } else {
            delta = .update(set: [:], remove: [StoredSession.userIDKey])
        }
        return try await apply(delta, to: key, expiresAt: expiresAt)
    }

    /// Deletes every session of `userID`.
    public func revokeSessions(ofUser userID: String) async throws -> Int {
        try await revokeSessions(ofUser: userID, except: nil)
    }
}
