/// Everything ``FlaskSessionCodec`` found in a cookie: the outcome, which key verified, when it was
/// issued, the JSON text and the decoded session. For the command-line tool and for debugging.
///
/// ```swift
/// let codec = try FlaskSessionCodec(secretKey: "dev-secret-key")
/// let context = SessionCodecContext(cookieName: "session", now: 1_700_000_060, lifetime: 2_678_400)
/// let report = codec.inspect(cookie[...], context: context)
/// print(report.rejection?.description ?? "ok", report.issuedAt ?? 0, report.session ?? .null)
/// let unchecked = FlaskSessionCodec.inspectUnverified(cookie[...])   // like flask-unsign --decode
/// ```
public struct FlaskCookieInspection: Sendable, Equatable {
    /// Which key verified the signature.
    public enum Verification: Sendable, Equatable {
        /// The current secret key.
        case currentKey
        /// A fallback key, by its index in the `fallbacks` list given to the codec.
        case fallbackKey(index: Int)
        /// The signature was not checked (``FlaskSessionCodec/inspectUnverified(_:maxDecompressedSize:)``).
        case notChecked
    }

    /// Why the cookie was rejected; `nil` when it is valid (or, unverified, when its payload decodes).
    public var rejection: SessionRejection?
    /// Which key verified the signature; `nil` when none did.
    public var verification: Verification?
    /// The timestamp in Unix seconds, when the signature verified (or, unverified, when it reads).
    public var issuedAt: Int64?
    /// Whether the payload carried the `.` zlib flag.
    public var compressed = false
    /// The payload's JSON text (decompressed), when it could be read.
    public var json: [UInt8]?
    /// The decoded session as a `.dict` (a `null` payload reads as an empty dict), when the payload
    /// decodes.
    public var session: FlaskValue?

    public init() {}

    func rejected(_ reason: SessionRejection) -> FlaskCookieInspection {
        var copy = self
        copy.rejection = reason
        return copy
    }
}
