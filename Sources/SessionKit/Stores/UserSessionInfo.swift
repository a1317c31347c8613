/// One of a user's sessions as ``SessionUserIndex/sessions(ofUser:)`` lists it: what an "active
/// sessions" page shows, and no session ID.
///
/// ```swift
/// for info in try await index.sessions(ofUser: "42") {
///     print(info.userAgent ?? "unknown device", info.lastSeenAt, info.key == current.storageKey ? "(this device)" : "")
/// }
/// ```
public struct UserSessionInfo: Sendable, Equatable {
    /// The storage key (a hash of the ID): names the session for ``SessionStore/delete(_:)`` and
    /// marks the current one, but cannot be used as a cookie.
    public var key: SessionStorageKey
    public var createdAt: Int64
    public var lastSeenAt: Int64
    public var expiresAt: Int64
    public var absoluteExpiresAt: Int64
    public var userAgent: String?
    public var ipAddress: String?

    public init(
        key: SessionStorageKey, createdAt: Int64, lastSeenAt: Int64, expiresAt: Int64, absoluteExpiresAt: Int64,
        userAgent: String?, ipAddress: String?
    ) {
        self.key = key
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
        self.absoluteExpiresAt = absoluteExpiresAt
        self.userAgent = userAgent
        self.ipAddress = ipAddress
    }
}
