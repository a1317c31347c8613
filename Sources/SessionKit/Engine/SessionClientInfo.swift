/// What the engine records about the client when it creates a server-side session, so a user can
/// tell their devices apart on an "active sessions" page.
///
/// ```swift
/// let client = SessionClientInfo(userAgent: request.headers[.userAgent], ipAddress: "203.0.113.7")
/// let session = try await engine.load(from: cookies, client: client)
/// ```
public struct SessionClientInfo: Sendable, Equatable {
    /// The `User-Agent` header, cut to 256 bytes.
    public var userAgent: String?
    /// The client's address as the server sees it.
    public var ipAddress: String?

    public init(userAgent: String? = nil, ipAddress: String? = nil) {
        self.userAgent = userAgent.map { String($0.utf8.prefix(256)) ?? "" }
        self.ipAddress = ipAddress
    }
}

/// A server-side session as it was loaded: its ID and its stored record.
struct ServerSessionOrigin: Sendable {
    let id: SessionID
    /// The ID's storage key, hashed once per request (a SHA-256 is a tenth of a memory-store read).
    let key: SessionStorageKey
    /// The record as loaded; after a touch on load, with the deadline that touch set.
    let record: StoredSession
    /// Whether the load already moved the idle deadline (``SessionStore/load(_:touchingIfDue:)``),
    /// so the commit of a request that only read writes nothing more.
    var touchedOnLoad = false
}
