public import Logging
public import SessionKit

/// The format of client-side session cookies.
///
/// ```swift
/// try SessionKitMiddleware<AppContext>(secret: secret, format: .signed)
/// ```
public enum CookieSessionFormat: Sendable {
    /// AES-256-GCM: unreadable and unforgeable by the browser (the default).
    case encrypted
    /// HMAC-SHA256: readable, unforgeable.
    case signed
    /// Flask 3.1's own format: reads and writes the cookies a Flask app with the same
    /// `SECRET_KEY` does.
    case flask

    /// The codec for this format under `secret`; `previousSecrets` (newest first) still verify.
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
            return try FlaskSessionCodec(secretKey: secret.bytes, fallbacks: previousSecrets.reversed().map(\.bytes))
        }
    }
}
