public import SessionKit
import Foundation

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
    /// Where sessions live.
    public var storage: DemoStorage
    /// Flask's `PERMANENT_SESSION_LIFETIME` in seconds (default 31 days).
    public var sessionLifetime: Int64?
    /// The clock (injected by tests).
    public var clock: @Sendable () -> Int64

    /// The session configuration these options give: Flask's defaults (cookie `session`, no
    /// SameSite, 31 days) in Flask-compatible mode, SessionKit's otherwise; Secure and the
    /// permanent lifetime as given. Both demos (Hummingbird, Vapor) configure their middleware with it.
    ///
    /// ```swift
    /// let configuration = DemoOptions(secret: secret, flaskCompatible: true, sessionLifetime: 60).sessionConfiguration
    /// ```
    public var sessionConfiguration: SessionConfiguration {
        var configuration = flaskCompatible ? SessionConfiguration.flaskDefaults : SessionConfiguration()
        configuration.cookie.secure = secureCookies
        if let sessionLifetime { configuration.permanentLifetime = .seconds(sessionLifetime) }
        return configuration
    }

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
        storage: DemoStorage = .cookie,
        sessionLifetime: Int64? = nil,
        clock: @escaping @Sendable () -> Int64 = SessionClock.system
    ) {
        self.secret = secret
        self.previousSecrets = previousSecrets
        self.flaskCompatible = flaskCompatible
        self.secureCookies = secureCookies
        self.cookieFormat = cookieFormat
        self.storage = storage
        self.sessionLifetime = sessionLifetime
        self.clock = clock
    }
}

/// Where the demo keeps sessions: `cookie`, `memory`, `sqlite[:PATH]`, or a shared store for a
/// fleet of demo processes: `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS), or
/// `postgres://user[:password]@host[:port]/database[?sslmode=disable|require|verify-full]`.
/// The password may also come from the environment variable `SESSIONKIT_STORE_PASSWORD`; the
/// ``description`` never shows it.
///
/// ```swift
/// DemoStorage(argument: "sqlite:/tmp/demo.sqlite")           // .sqlite(path: "/tmp/demo.sqlite")
/// DemoStorage(argument: "redis://127.0.0.1:6379/0")         // .redis(url: "redis://127.0.0.1:6379/0")
/// ```
public enum DemoStorage: Sendable, Equatable, CustomStringConvertible {
    /// Client-side: the session in an encrypted (or signed, or Flask) cookie.
    case cookie
    /// Server-side, in this process's memory.
    case memory
    /// Server-side, in a SQLite file (the embedded default).
    case sqlite(path: String)
    /// Server-side, in Redis (`redis://` or `rediss://`), shared by every process that names it.
    case redis(url: String)
    /// Server-side, in PostgreSQL (`postgres://` or `postgresql://`), shared likewise.
    case postgres(url: String)

    public static let defaultSQLitePath = "./sessionkit-demo.sqlite"

    public init?(argument: String) {
        switch argument {
        case "cookie": self = .cookie
        case "memory": self = .memory
        case "sqlite": self = .sqlite(path: Self.defaultSQLitePath)
        default:
            if argument.hasPrefix("redis://") || argument.hasPrefix("rediss://") {
                self = .redis(url: argument)
            } else if argument.hasPrefix("postgres://") || argument.hasPrefix("postgresql://") {
                self = .postgres(url: argument)
            } else if argument.hasPrefix("sqlite:"), argument.count > 7 {
                self = .sqlite(path: String(argument.dropFirst(7)))
            } else {
                return nil
            }
        }
    }

    public var description: String {
        switch self {
        case .cookie: return "cookie"
        case .memory: return "memory"
        case .sqlite(let path): return "sqlite:\(path)"
        case .redis(let url), .postgres(let url): return Self.redacted(url)
        }
    }

    /// `url` with the password of its user information replaced by `***`.
    static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard let at = authority.lastIndex(of: "@") else { return url }
        let userInfo = authority[..<at]
        let user = userInfo.prefix { $0 != ":" }
        // `redis://secret@host` (no colon) is a password alone.
        let shown = userInfo.contains(":") ? String(user) + ":***" : "***"
        return String(url[..<schemeEnd.upperBound]) + shown + String(rest[at...])
    }
}