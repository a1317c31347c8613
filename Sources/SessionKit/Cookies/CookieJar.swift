import Foundation

/// A browser's cookie store (RFC 6265bis sections 5.7 and 5.8), as a value type: it receives
/// `Set-Cookie` headers for a request URL and produces the `Cookie` header for the next request.
/// It backs test clients that drive login flows like a browser.
///
/// ```swift
/// var jar = CookieJar()
/// let now = Date()
/// jar.receive(setCookie: "id=abc; Path=/; HttpOnly", from: URL(string: "https://example.com/login")!, now: now)
/// jar.cookieHeader(for: URL(string: "https://example.com/account")!, now: now) // "id=abc"
/// jar.cookies(named: "id").first?.value                                        // "abc"
/// ```
///
/// What it applies:
/// - host-only cookies (no Domain) versus domain cookies; domain and path matching; the default path;
/// - expiry: Max-Age wins over Expires, both capped at 400 days; a cookie that is already expired
///   (Max-Age <= 0, past Expires) deletes the stored one and is not stored;
/// - Secure cookies are only set from, and only sent to, secure origins: `https`/`wss`, and the
///   loopback hosts `localhost` (and `*.localhost`), `127.0.0.1` and `::1`, which browsers treat as
///   secure contexts; a non-secure origin cannot overwrite a Secure cookie of the same name;
/// - `__Secure-` needs Secure, `__Host-` needs Secure, no Domain and Path=/ (case-insensitive);
///   SameSite=None and Partitioned need Secure; a Domain that does not match the host is rejected;
/// - a cookie with the same name, domain, host-only flag and path is replaced, keeping its creation time;
/// - the Cookie header lists longer paths first, then earlier creation.
///
/// Not applied: the public suffix list (a Domain of `com` from `example.com` is accepted), SameSite
/// (requests are treated as same-site), partition keys (Partitioned cookies are stored like others),
/// per-domain and total cookie limits.
public struct CookieJar: Sendable, Hashable {
    /// A stored cookie, as the jar keeps it (RFC 6265bis section 5.7).
    ///
    /// ```swift
    /// if let session = jar.cookies(named: "session").first { print(session.domain, session.path, session.expiry ?? "session cookie") }
    /// ```
    public struct Cookie: Sendable, Hashable {
        public var name: String
        public var value: String
        /// Lower-case host (host-only cookie) or Domain attribute without its leading dot.
        public var domain: String
        public var path: String
        /// nil for a session cookie.
        public var expiry: Date?
        public var creation: Date
        public var hostOnly: Bool
        public var secure: Bool
        public var httpOnly: Bool
        public var sameSite: SetCookie.SameSite?
        public var partitioned: Bool
        /// Breaks ties between equal creation times: the order in which cookies were first stored.
        var sequence: UInt64
    }

    private var storage: [Cookie] = []
    private var nextSequence: UInt64 = 0

    public init() {}

    /// Every stored cookie, expired ones included until the next `receive` or `removeExpired`.
    public var all: [Cookie] { storage }

    /// Every stored cookie with that name.
    public func cookies(named name: String) -> [Cookie] { storage.filter { $0.name == name } }

    /// Forgets all cookies.
    public mutating func removeAll() { storage.removeAll() }

    /// Drops expired cookies.
    public mutating func removeExpired(now: Date) {
        storage.removeAll { $0.expiry.map { $0 <= now } ?? false }
    }

    /// Receives one `Set-Cookie` header value for a response to `url`. Returns whether the cookie was
    /// stored (false when it was ignored, or when it only deleted a cookie).
    @discardableResult
    public mutating func receive(setCookie headerValue: String, from url: URL, now: Date) -> Bool {
        guard let origin = Self.origin(of: url) else { return false }
        return receive(setCookie: headerValue, scheme: origin.scheme, host: origin.host, path: origin.path, now: now)
    }

    /// Receives several `Set-Cookie` header values, in order.
    public mutating func receive(setCookies headerValues: some Sequence<String>, from url: URL, now: Date) {
        for header in headerValues { receive(setCookie: header, from: url, now: now) }
    }

    /// Receives one `Set-Cookie` header value for a request to `scheme://host` with the URI path `path`.
    @discardableResult
    public mutating func receive(setCookie headerValue: String, scheme: String, host: String, path: String, now: Date) -> Bool {
        guard let parsed = SetCookie(parsing: headerValue) else { return false }
        let host = Self.canonicalHost(host)
        let secureOrigin = Self.isSecure(scheme: scheme, host: host)

        // Expiry: Max-Age wins over Expires; both capped at 400 days.
        let cap = now.addingTimeInterval(400 * 86_400)
        var expiry: Date?
        if let maxAge = parsed.maxAge {
            expiry = maxAge <= 0 ? Date.distantPast : min(now.addingTimeInterval(TimeInterval(min(maxAge, 400 * 86_400))), cap)
        } else if let expires = parsed.expires {
            expiry = min(expires, cap)
        }

        var domain = host
        var hostOnly = true
        if let attribute = parsed.domain, !attribute.isEmpty {
            guard Self.domainMatches(host, attribute) else { return false }
            domain = attribute
            hostOnly = false
        }
        let cookiePath = parsed.path ?? Self.defaultPath(path)
        if parsed.secure, !secureOrigin { return false }
        if !parsed.secure, !secureOrigin {
            // Leave Secure cookies alone (RFC 6265bis 5.7 step 14).
            let shadowsSecure = storage.contains {
                $0.secure && $0.name == parsed.name
                    && (Self.domainMatches($0.domain, domain) || Self.domainMatches(domain, $0.domain))
                    && Self.pathMatches(cookiePath, $0.path)
            }
            if shadowsSecure { return false }
        }
        if parsed.sameSite == SetCookie.SameSite.none, !parsed.secure { return false }
        if parsed.partitioned, !parsed.secure { return false }
        // Prefixes; a nameless cookie may not smuggle one in its value.
        if parsed.name.isEmpty, SetCookie.hasPrefix(parsed.value, "__secure-") || SetCookie.hasPrefix(parsed.value, "__host-") { return false }
        if SetCookie.hasPrefix(parsed.name, "__secure-"), !parsed.secure { return false }
        if SetCookie.hasPrefix(parsed.name, "__host-"), !parsed.secure || !hostOnly || parsed.path != "/" { return false }

        var cookie = Cookie(
            name: parsed.name, value: parsed.value, domain: domain, path: cookiePath, expiry: expiry, creation: now,
            hostOnly: hostOnly, secure: parsed.secure, httpOnly: parsed.httpOnly, sameSite: parsed.sameSite,
            partitioned: parsed.partitioned, sequence: nextSequence
        )
        if let index = storage.firstIndex(where: {
            $0.name == cookie.name && $0.domain == cookie.domain && $0.hostOnly == cookie.hostOnly && $0.path == cookie.path
        }) {
            cookie.creation = storage[index].creation
            cookie.sequence = storage[index].sequence
            storage.remove(at: index)
        } else {
            nextSequence += 1
        }
        removeExpired(now: now)
        if let expiry = cookie.expiry, expiry <= now { return false }
        storage.append(cookie)
        return true
    }

    /// The cookies a browser would send with a request to `url`, in Cookie header order.
    public func cookies(for url: URL, now: Date) -> [Cookie] {
        guard let origin = Self.origin(of: url) else { return [] }
        return cookies(scheme: origin.scheme, host: origin.host, path: origin.path, now: now)
    }

    /// The cookies a browser would send with a request to `scheme://host` + `path`, in order.
    public func cookies(scheme: String, host: String, path: String, now: Date) -> [Cookie] {
        let host = Self.canonicalHost(host)
        let secure = Self.isSecure(scheme: scheme, host: host)
        let requestPath = path.isEmpty ? "/" : path
        return storage.filter { cookie in
            if let expiry = cookie.expiry, expiry <= now { return false }
            if cookie.hostOnly ? cookie.domain != host : !Self.domainMatches(host, cookie.domain) { return false }
            if !Self.pathMatches(requestPath, cookie.path) { return false }
            if cookie.secure, !secure { return false }
            return true
        }.sorted {
            if $0.path.utf8.count != $1.path.utf8.count { return $0.path.utf8.count > $1.path.utf8.count }
            if $0.creation != $1.creation { return $0.creation < $1.creation }
            return $0.sequence < $1.sequence
        }
    }

    /// The `Cookie` header for a request to `url`, or nil when no cookie applies.
    public func cookieHeader(for url: URL, now: Date) -> String? {
        Self.header(for: cookies(for: url, now: now))
    }

    /// The `Cookie` header for a request to `scheme://host` + `path`, or nil when no cookie applies.
    public func cookieHeader(scheme: String, host: String, path: String, now: Date) -> String? {
        Self.header(for: cookies(scheme: scheme, host: host, path: path, now: now))
    }

    private static func header(for cookies: [Cookie]) -> String? {
        guard !cookies.isEmpty else { return nil }
        return cookies.map { $0.name.isEmpty ? $0.value : "\($0.name)=\($0.value)" }.joined(separator: "; ")
    }
}
