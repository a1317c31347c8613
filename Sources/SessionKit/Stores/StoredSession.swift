/// One session as a store keeps it: the values and the bookkeeping around them.
///
/// Times are Unix seconds. ``expiresAt`` is the idle deadline (the caller caps it by
/// ``absoluteExpiresAt``; stores cap it again on every write), and a session is expired once the
/// store's clock reaches it (`now >= expiresAt`). ``userID`` is not a separate field: it is the
/// value of the reserved key ``userIDKey`` (`"_user_id"`, as Flask-Login names it), so the user
/// index always follows the values, whatever wrote them.
///
/// ```swift
/// let now = Int64(Date().timeIntervalSince1970)
/// let stored = StoredSession(
///     values: ["username": try SessionValue(encoding: "alice"), StoredSession.userIDKey: try SessionValue(encoding: "42")],
///     createdAt: now, expiresAt: now + 1800, absoluteExpiresAt: now + 86_400,
///     userAgent: "Mozilla/5.0", ipAddress: "192.0.2.1"
/// )
/// try await store.create(SessionID().storageKey, stored)
/// ```
public struct StoredSession: Sendable, Equatable {
    /// The session's values by key. Stores keep each value's JSON text (``SessionValue/jsonBytes``),
    /// so a loaded value is always in its JSON form.
    public var values: [String: SessionValue]
    /// When the session was created.
    public var createdAt: Int64
    /// When the session was last written or touched (the store's clock).
    public var lastSeenAt: Int64
    /// The idle deadline, never later than ``absoluteExpiresAt``.
    public var expiresAt: Int64
    /// The absolute deadline: no touch or write extends the session past it.
    public var absoluteExpiresAt: Int64
    /// The client's `User-Agent` when the session was created, for a list of active sessions.
    public var userAgent: String?
    /// The client's address when the session was created, for a list of active sessions.
    public var ipAddress: String?
    /// The version of the stored row this session was read at, when the store that loaded it
    /// keeps one (PostgreSQL: the row's `xmin`): a ``SessionLoadedApplyingStore`` writes the
    /// request's changes as the loaded values with the delta applied, only while the row is still
    /// at this version. Not part of `==`.
    package var revision: Int64?

    /// The reserved session key whose value is the session's user ID (a JSON string or integer).
    /// Set it with a delta, `session[.userID] = "42"`, or ``SessionUserIndex/setUserID(_:for:expiresAt:)``.
    public static let userIDKey = "_user_id"

    public init(
        values: [String: SessionValue],
        createdAt: Int64,
        lastSeenAt: Int64? = nil,
        expiresAt: Int64,
        absoluteExpiresAt: Int64,
        userAgent: String? = nil,
        ipAddress: String? = nil
    ) {
        self.values = values
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt ?? createdAt
        self.expiresAt = min(expiresAt, absoluteExpiresAt)
        self.absoluteExpiresAt = absoluteExpiresAt
        self.userAgent = userAgent
        self.ipAddress = ipAddress
    }

    /// The user the session belongs to: the value of ``userIDKey`` when it is a string or an
    /// integer, otherwise `nil`.
    public var userID: String? { Self.userID(from: values[Self.userIDKey]) }

    /// The user ID a value of ``userIDKey`` names.
    public static func userID(from value: SessionValue?) -> String? {
        guard let value, let flask = try? value.flaskValue() else { return nil }
        switch flask {
        case .string(let string), .bigInt(let string): return string
        case .int(let int): return String(int)
        default: return nil
        }
    }

    /// Equal when the bookkeeping is equal and every value has the same JSON text (a value in its
    /// Flask form equals its JSON form after a round trip through a store).
    public static func == (lhs: StoredSession, rhs: StoredSession) -> Bool {
        guard lhs.createdAt == rhs.createdAt, lhs.lastSeenAt == rhs.lastSeenAt, lhs.expiresAt == rhs.expiresAt,
            lhs.absoluteExpiresAt == rhs.absoluteExpiresAt, lhs.userAgent == rhs.userAgent,
            lhs.ipAddress == rhs.ipAddress, lhs.values.count == rhs.values.count
        else { return false }
        for (key, value) in lhs.values {
            guard let other = rhs.values[key], other == value || other.jsonBytes == value.jsonBytes else { return false }
        }
        return true
    }
}
