/// A client-side session format: turns session data into a cookie value and back.
///
/// SessionKit ships three: ``EncryptedSessionCodec`` (the default), ``SignedSessionCodec`` and
/// ``FlaskSessionCodec``.
///
/// ```swift
/// let codec = try EncryptedSessionCodec(keys: KeyRing(secret: .environment("SESSIONKIT_SECRET")))
/// let context = SessionCodecContext(cookieName: "session", now: 1_700_000_000, lifetime: 2_678_400)
/// let value = try codec.encode(SessionData(values: [:]), context: context)
/// switch codec.decode(value[...], context: context) {
/// case .valid(let data, let needsReissue): print(data.values.count, needsReissue)
/// case .rejected(let reason): print(reason)
/// }
/// ```
public protocol SessionCodec: Sendable {
    /// A short name for logs and the command-line tool (`encrypted`, `signed`, `flask`).
    var formatName: String { get }
    /// The cookie value for `data`.
    func encode(_ data: SessionData, context: SessionCodecContext) throws -> String
    /// Verifies and decodes a cookie value. Never throws: a bad cookie is a rejection with a reason.
    func decode(_ cookieValue: Substring, context: SessionCodecContext) -> SessionDecodeResult
}

/// What a codec needs to know besides the data: the cookie's name (bound into the MAC), the time,
/// and how long a cookie and its session stay valid.
///
/// ```swift
/// let context = SessionCodecContext(cookieName: "session", now: 1_700_000_000, lifetime: 3600, absoluteLifetime: 90 * 86_400)
/// ```
///
/// Both limits are the current configuration's, checked on every decode against the times the
/// cookie carries, not only against the deadline written into it when it was issued: lowering them
/// shortens cookies already issued.
public struct SessionCodecContext: Sendable {
    /// The cookie's name; a cookie moved to another name does not verify.
    public var cookieName: String
    /// The current time in Unix seconds.
    public var now: Int64
    /// Seconds a cookie stays valid after it was issued: a cookie older than this is rejected as
    /// ``SessionRejection/expired``, whatever deadline it carries.
    public var lifetime: Int64
    /// Seconds a session stays valid after it was first issued, however often its cookie is
    /// re-issued (``SessionConfiguration/absoluteLifetime``); `nil` for no such limit. Formats that
    /// record the first issue (the native ones) check it; the Flask format records no first issue
    /// and has no absolute lifetime.
    public var absoluteLifetime: Int64?

    public init(cookieName: String, now: Int64, lifetime: Int64, absoluteLifetime: Int64? = nil) {
        self.cookieName = cookieName
        self.now = now
        self.lifetime = lifetime
        self.absoluteLifetime = absoluteLifetime
    }
}

/// The outcome of decoding a cookie value.
public enum SessionDecodeResult: Sendable {
    /// The cookie verified. `needsReissue` is true when it verified under an older key.
    case valid(SessionData, needsReissue: Bool)
    /// The cookie was rejected; the session starts empty.
    case rejected(SessionRejection)
}

/// Why a cookie was rejected. The names match Flask's outcomes where Flask has one.
///
/// ```swift
/// if case .rejected(let reason) = result { logger.debug("session cookie rejected: \(reason)") }
/// ```
public enum SessionRejection: String, Error, Sendable, Hashable, CustomStringConvertible {
    /// Not of the format's shape (wrong characters, length, missing parts).
    case malformed = "malformed"
    /// A version byte this library does not know.
    case unknownVersion = "unknown_version"
    /// The signature or authentication tag does not verify under any key.
    case badSignature = "bad_signature"
    /// The timestamp is missing or unreadable (Flask's `BadTimeSignature`).
    case badTimestamp = "bad_timestamp"
    /// Past its deadline, or issued in the future.
    case expired = "expired"
    /// Authentic, but the payload does not decode.
    case badPayload = "bad_payload"
    /// Longer than any cookie this format issues.
    case tooLarge = "too_large"

    public var description: String { rawValue }
}
