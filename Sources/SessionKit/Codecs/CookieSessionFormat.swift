public import Logging

/// The format of client-side session cookies, the codec each one makes, and how to tell them
/// apart from a cookie value alone (for tools; a server knows its format).
///
/// Every framework module takes it as its middleware's `format:`:
///
/// ```swift
/// try SessionKitMiddleware<AppContext>(secret: secret, format: .signed)   // Hummingbird
/// try SessionKitVaporMiddleware(secret: secret, format: .flask)           // Vapor
/// CookieSessionFormat.detect("eyJ1c2VybmFtZSI6ImFsaWNlIn0.ZVPxAA.xewjHM3zIFFtK5dWW93S8OnpPTI") // .flask
/// ```
public enum CookieSessionFormat: String, Sendable, CaseIterable {
    /// AES-256-GCM: unreadable and unforgeable by the browser (the default).
    case encrypted
    /// HMAC-SHA256: readable, unforgeable.
    case signed
    /// Flask 3.1's own format: reads and writes the cookies a Flask app with the same
    /// `SECRET_KEY` does.
    case flask

    /// The codec for this format under `secret`; `previousSecrets` (newest first) still verify.
    /// The Flask format accepts a key of any length, as Flask does, and logs a warning for one
    /// under 32 bytes; the native formats throw a configuration error for it.
    public func makeCodec(secret: SessionSecret, previousSecrets: [SessionSecret] = [], logger: Logger = Logger(label: "SessionKit")) throws -> any SessionCodec {
        switch self {
        case .encrypted:
            return EncryptedSessionCodec(keys: try KeyRing(current: secret, previous: previousSecrets))
        case .signed:
            return SignedSessionCodec(keys: try KeyRing(current: secret, previous: previousSecrets))
        case .flask:
            if secret.bytes.count < 32 {
                logger.warning("the Flask SECRET_KEY is shorter than 32 bytes; accepted for compatibility, but a longer key is safer")
            }
            // Flask lists its fallbacks oldest first.
            return try FlaskSessionCodec(secretKey: secret.bytes, fallbacks: previousSecrets.reversed().map(\.bytes))
        }
    }

    /// The format a cookie value is in, or `nil` when it is none of them. Flask cookies have dots;
    /// native ones are one base64url string whose first byte is the format's version.
    public static func detect(_ cookieValue: Substring) -> CookieSessionFormat? {
        if cookieValue.contains(".") { return .flask }
        guard let bytes = Base64URL.decode(cookieValue), let version = bytes.first else { return nil }
        switch version {
        case NativeCookieEnvelope.encryptedAESGCM, NativeCookieEnvelope.encryptedChaChaPoly: return .encrypted
        case NativeCookieEnvelope.signedHMACSHA256: return .signed
        default: return nil
        }
    }
}
