/// How sessions behave: the cookie's name and attributes, lifetimes, when cookies are re-issued,
/// and what happens when a handler fails. The defaults are safe; Flask's defaults are one call away
/// (``flaskDefaults``).
///
/// ```swift
/// var configuration = SessionConfiguration()
/// configuration.permanentLifetime = .seconds(7 * 24 * 3600)
/// configuration.idleTimeout = .seconds(30 * 60)
/// configuration.cookie.secure = false      // plain-http development only
/// ```
///
/// Times are `Duration`s, as in Hummingbird and postgres-nio. Sessions keep whole seconds (cookies
/// and stores record Unix seconds): each time is converted once, when it is set, and a fraction of a
/// second is rounded up to the next whole second (so `.milliseconds(1)` is one second, never zero).
public struct SessionConfiguration: Sendable {
    /// The session cookie's attributes (the value is the session).
    public struct CookieAttributes: Sendable {
        public var name: String = "session"
        public var domain: String? = nil
        public var path: String? = "/"
        public var secure: Bool = true
        public var httpOnly: Bool = true
        public var sameSite: SetCookie.SameSite? = .lax
        public var partitioned: Bool = false

        public init() {}
    }

    /// Which failed responses still commit the session (a handler that throws an HTTP error).
    public enum ErrorCommitPolicy: Sendable {
        /// Commit on 4xx, not on 5xx (the default): a login form that answers 422 keeps its flash
        /// messages; a crash does not half-save.
        case clientErrorsOnly
        /// Commit whatever the status.
        case always
        /// Commit only successful responses.
        case never
    }

    /// The session cookie.
    public var cookie = CookieAttributes()
    /// How long a session stays valid (Flask's `PERMANENT_SESSION_LIFETIME`, 31 days): the
    /// `Expires` of a permanent session's cookie and the deadline inside every cookie. Every cookie's
    /// age is also checked on load against the current value (as Flask's `max_age` does), so
    /// lowering it shortens cookies already issued.
    public var permanentLifetime: Duration {
        get { .seconds(permanentLifetimeSeconds) }
        set { permanentLifetimeSeconds = Self.wholeSeconds(newValue) }
    }
    /// ``permanentLifetime`` in whole seconds, as the engine computes with it.
    package private(set) var permanentLifetimeSeconds: Int64 = 31 * 24 * 3600
    /// Re-issue a permanent session's cookie on requests, sliding its expiry (Flask's
    /// `SESSION_REFRESH_EACH_REQUEST`).
    public var refreshEachRequest = true
    /// Re-issue for a refresh only when the cookie is at least this old (60 seconds), so a busy
    /// page does not send a new cookie on every request. `.zero` re-issues every time, as Flask does.
    public var refreshInterval: Duration {
        get { .seconds(refreshIntervalSeconds) }
        set { refreshIntervalSeconds = Self.wholeSeconds(newValue) }
    }
    /// ``refreshInterval`` in whole seconds.
    package private(set) var refreshIntervalSeconds: Int64 = 60
    /// Re-issue a cookie that verified under an older key, so key rotation completes.
    public var reissueAfterKeyRotation = true
    /// Use the first session cookie that verifies (`true`), or only the first one present, as Flask
    /// does (`false`).
    ///
    /// Server-side sessions look up at most ``maximumStoreLookups`` (3) well-formed IDs of one
    /// request in the store, in the order the `Cookie` header lists them; values that are not of an
    /// ID's shape (or whose signature fails) cost no look-up and do not count. A header stuffed with
    /// many IDs therefore costs at most three store round trips.
    public var tryEveryCookieCandidate = true
    /// How many session IDs of one request server-side sessions look up in the store at most (3),
    /// however many session cookies the request carries (see ``tryEveryCookieCandidate``).
    public static let maximumStoreLookups = 3
    /// Browsers drop cookies larger than this (name and value); committing one is an error.
    public var maximumCookieSize = 4096
    /// Which failed responses still commit the session.
    public var errorCommitPolicy = ErrorCommitPolicy.clientErrorsOnly

    /// What a request gets when the session store fails while loading.
    public enum StoreFailurePolicy: Sendable {
        /// Answer 503 (the default): the user stays logged in once the store is back.
        case failClosed
        /// Continue with an empty session and write nothing, for public pages that work without
        /// one; the user's cookie is left alone.
        case continueAnonymous
    }

    /// Server-side sessions: how long without a request before a non-permanent session ends
    /// (2 hours; a permanent one uses ``permanentLifetime``). Sliding: each use extends it.
    public var idleTimeout: Duration {
        get { .seconds(idleTimeoutSeconds) }
        set { idleTimeoutSeconds = Self.wholeSeconds(newValue) }
    }
    /// ``idleTimeout`` in whole seconds.
    package private(set) var idleTimeoutSeconds: Int64 = 2 * 3600
    /// How long after creation a session ends however active it is (90 days): for server-side sessions
    /// from the record's creation; for encrypted and signed cookie sessions from the first issue,
    /// which the cookie carries and every re-issue keeps (a refresh, ``Session/regenerateID()``, key
    /// rotation), so refreshing cannot keep a cookie alive past it. A cookie issued before SessionKit
    /// recorded the first issue counts its issue time as its first issue. The Flask format carries
    /// only its timestamp (anything more would break interop with Flask), so Flask cookies have no
    /// absolute lifetime, only ``permanentLifetime``.
    public var absoluteLifetime: Duration {
        get { .seconds(absoluteLifetimeSeconds) }
        set { absoluteLifetimeSeconds = Self.wholeSeconds(newValue) }
    }
    /// ``absoluteLifetime`` in whole seconds.
    package private(set) var absoluteLifetimeSeconds: Int64 = 90 * 24 * 3600
    /// Server-side sessions: a request that changes the session's user (sets, changes or removes
    /// ``StoredSession/userIDKey``, `_user_id`) also gets a new session ID, as if it had called
    /// ``Session/regenerateID()``, as Django's `login()` does. So a handler that logs a user in
    /// without regenerating keeps no ID an attacker may have planted (session fixation). Set it to
    /// `false` only to keep IDs stable for a reason of your own.
    public var regeneratesIDWhenUserChanges = true
    /// Server-side sessions: extend the idle deadline (one store write) only once this fraction of
    /// the idle window has passed since the last extension, so a busy page costs no writes.
    public var touchFraction: Double = 0.1
    /// What a request gets when the store fails while loading.
    public var storeFailurePolicy = StoreFailurePolicy.failClosed

    public init() {}

    /// Flask's defaults: `session=...; HttpOnly; Path=/`, no Secure, no SameSite, a refresh on
    /// every request, the first cookie only, no re-issue on a fallback key's read.
    public static var flaskDefaults: SessionConfiguration {
        var configuration = SessionConfiguration()
        configuration.cookie.secure = false
        configuration.cookie.sameSite = nil
        configuration.refreshInterval = .zero
        configuration.reissueAfterKeyRotation = false
        configuration.tryEveryCookieCandidate = false
        return configuration
    }

    /// Throws ``SessionError/Code/configuration`` when the cookie attributes cannot make a valid
    /// cookie (a bad name, a `__Host-` name with a Domain, `SameSite=None` without Secure, ...) or a
    /// lifetime is not positive. Middleware checks this at start-up.
    public func validate() throws {
        do {
            _ = try SetCookie(
                name: cookie.name, value: "", domain: cookie.domain, path: cookie.path,
                secure: cookie.secure || cookie.partitioned, httpOnly: cookie.httpOnly,
                sameSite: cookie.sameSite, partitioned: cookie.partitioned
            )
        } catch let error as CookieError {
            throw SessionError(.configuration, "the session cookie's attributes are invalid: \(error.message)")
        }
        guard permanentLifetimeSeconds > 0, idleTimeoutSeconds > 0, absoluteLifetimeSeconds > 0, refreshIntervalSeconds >= 0 else {
            throw SessionError(.configuration, "session lifetimes must be positive (and the refresh interval not negative)")
        }
    }

    /// `duration` in whole seconds, a fraction rounded up (toward positive infinity).
    static func wholeSeconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        guard attoseconds > 0 else { return seconds }
        return seconds == .max ? .max : seconds + 1
    }

    func commits(status: Int) -> Bool {
        switch errorCommitPolicy {
        case .always: return true
        case .never: return status < 400
        case .clientErrorsOnly: return status < 500
        }
    }
}
