/// What a codec or a store holds for one session: its values and, for client-side cookies, when the
/// cookie was issued, when its session was first issued, and the deadline it carries.
///
/// ```swift
/// var data = SessionData()
/// data.values["username"] = try SessionValue(encoding: "alice")
/// ```
public struct SessionData: Sendable, Equatable {
    /// The session's values by key.
    public var values: [String: SessionValue]
    /// Unix seconds when the cookie carrying this data was issued, if the format records it.
    public var issuedAt: Int64?
    /// Unix seconds after which the data is no longer valid, if the format records it.
    public var expiresAt: Int64?
    /// Unix seconds when the session was first issued: the start of its absolute lifetime
    /// (``SessionConfiguration/absoluteLifetime``), kept by every re-issue of the cookie. The native
    /// formats record it; `nil` for a Flask cookie (its format has no room for it) and for a native
    /// cookie issued before SessionKit recorded it, whose ``issuedAt`` then counts as its first issue.
    /// When encoding, `nil` means a new session, first issued now.
    public var firstIssuedAt: Int64?

    public init(values: [String: SessionValue] = [:], issuedAt: Int64? = nil, expiresAt: Int64? = nil, firstIssuedAt: Int64? = nil) {
        self.values = values
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.firstIssuedAt = firstIssuedAt
    }
}
