public import SessionKit

/// How the demo app is set up: where sessions live and which secret protects them.
///
/// ```swift
/// let options = DemoOptions(secret: SessionSecret(text: String(repeating: "k", count: 32)))
/// let router = try DemoRouter.build(options: options)
/// ```
public struct DemoOptions: Sendable {
    /// The secret (Flask's `SECRET_KEY`).
    public var secret: SessionSecret
    /// Older secrets that still verify during a key rotation, newest first.
    public var previousSecrets: [SessionSecret]
    /// Speak Flask's cookie format with Flask's default cookie attributes.
    public var flaskCompatible: Bool
    /// Mark cookies Secure (off for plain-http development).
    public var secureCookies: Bool
    /// The format of cookie sessions when not Flask-compatible.
    public var cookieFormat: CookieFormatName
    /// The clock (injected by tests).
    public var clock: @Sendable () -> Int64

    /// Names of the native formats.
    public enum CookieFormatName: String, Sendable, CaseIterable {
        case encrypted, signed
    }

    public init(
        secret: SessionSecret,
        previousSecrets: [SessionSecret] = [],
        flaskCompatible: Bool = false,
        secureCookies: Bool = false,
        cookieFormat: CookieFormatName = .encrypted,
        clock: @escaping @Sendable () -> Int64 = SessionClock.system
    ) {
        self.secret = secret
        self.previousSecrets = previousSecrets
        self.flaskCompatible = flaskCompatible
        self.secureCookies = secureCookies
        self.cookieFormat = cookieFormat
        self.clock = clock
    }
}
