import Foundation

/// One `Set-Cookie` response header: a cookie and its attributes, validated when built (in release
/// builds too), written with a fixed attribute order that is Werkzeug's, so that a Flask app's
/// headers and ours are byte-identical.
///
/// ```swift
/// let cookie = try SetCookie(name: "theme", value: "dark", maxAge: 3600, secure: true, httpOnly: true, sameSite: .lax)
/// cookie.headerValue   // "theme=dark; Max-Age=3600; Secure; HttpOnly; Path=/; SameSite=Lax"
/// cookie.deletion().headerValue
/// // "theme=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; Path=/; SameSite=Lax"
///
/// // Any string, quoted as Flask quotes it:
/// try SetCookie(name: "note", value: "a;b", valueEncoding: .werkzeug).headerValue // #"note="a\073b"; Path=/"#
/// ```
///
/// Rules checked by the initializer (each failure is a `CookieError` with its `code`):
/// - the name is an RFC 7230 token (`.invalidName`);
/// - `.strict`: the value is cookie-octets or a double-quoted cookie-octets string (`.invalidValue`);
///   `.werkzeug`: any value, quoted as Werkzeug 3.1 does;
/// - Domain is a host name: ASCII letters, digits, `-` and `_` in dot-separated labels of 1-63 bytes; a
///   leading dot is accepted and dropped (browsers ignore it; Werkzeug drops it too); no scheme, `/`,
///   `:`, spaces or non-ASCII (convert IDNs to punycode first) (`.invalidDomain`);
/// - Path starts with `/`, has only printable ASCII other than `;`, and does not end with a space, which
///   browsers strip (`.invalidPath`);
/// - name plus (written) value at most 4096 bytes, each attribute value at most 1024 (`.tooLarge`);
/// - `__Secure-` needs Secure; `__Host-` needs Secure, Path=/ and no Domain (prefixes matched
///   case-insensitively, as current browsers do) (`.prefixViolation`);
/// - SameSite=None needs Secure (`.sameSiteNoneRequiresSecure`); Partitioned needs Secure
///   (`.partitionedRequiresSecure`, as browsers reject it; Werkzeug instead forces Secure, see
///   `werkzeug(...)`);
/// - Expires is finite and within years 1-9999 (`.invalidExpires`); extensions are non-empty printable
///   ASCII without `;` and without leading or trailing spaces (`.invalidExtension`).
///
/// `maxAge` without `expires` writes no Expires (every current browser honours Max-Age); use
/// `werkzeug(...)` for Flask's behaviour of adding Expires = now + max_age.
public struct SetCookie: Sendable, Hashable {
    /// The SameSite attribute: whether the browser sends the cookie with cross-site requests.
    ///
    /// ```swift
    /// try SetCookie(name: "id", value: "x", secure: true, sameSite: .none) // SameSite=None needs Secure
    /// ```
    public enum SameSite: String, Sendable, Hashable, CaseIterable {
        case strict = "Strict"
        case lax = "Lax"
        case none = "None"
    }

    /// Chrome's Priority attribute: which cookies Chrome evicts last when a domain has too many.
    ///
    /// ```swift
    /// try SetCookie(name: "session", value: "x", priority: .high).headerValue // "session=x; Path=/; Priority=High"
    /// ```
    public enum Priority: String, Sendable, Hashable, CaseIterable {
        case low = "Low"
        case medium = "Medium"
        case high = "High"
    }

    /// The cookie name.
    public let name: String
    /// The value as given (for a parsed header: as sent, quotes included). `headerValue` writes it
    /// according to `valueEncoding`.
    public let value: String
    /// The Expires attribute (written with whole seconds).
    public let expires: Date?
    /// The Max-Age attribute, in seconds; zero or negative expires the cookie at once.
    public let maxAge: Int?
    /// The Domain attribute, without a leading dot.
    public let domain: String?
    /// The Path attribute; nil writes none.
    public let path: String?
    /// The Secure attribute.
    public let secure: Bool
    /// The HttpOnly attribute.
    public let httpOnly: Bool
    /// The SameSite attribute.
    public let sameSite: SameSite?
    /// The Partitioned attribute (CHIPS).
    public let partitioned: Bool
    /// The Priority attribute.
    public let priority: Priority?
    /// Further attributes, written verbatim after the others (for example `"Foo=bar"`).
    public let extensions: [String]
    /// How `value` is written.
    public let valueEncoding: CookieValueEncoding
    /// `werkzeug(...)` only: Werkzeug writes `Domain=` for an empty domain string.
    let emptyDomain: Bool

    /// A validated cookie. See the type's documentation for the rules.
    public init(
        name: String,
        value: String,
        expires: Date? = nil,
        maxAge: Int? = nil,
        domain: String? = nil,
        path: String? = "/",
        secure: Bool = false,
        httpOnly: Bool = false,
        sameSite: SameSite? = nil,
        partitioned: Bool = false,
        priority: Priority? = nil,
        extensions: [String] = [],
        valueEncoding: CookieValueEncoding = .strict
    ) throws {
        try Self.validateName(name)
        try Self.validateValue(value, name: name, encoding: valueEncoding)
        if let expires { try Self.validateExpires(expires, name: name) }
        var normalizedDomain = domain
        if let domain {
            normalizedDomain = try Self.validateDomain(domain, cookie: name)
        }
        if let path { try Self.validatePath(path, cookie: name) }
        for attribute in extensions { try Self.validateExtension(attribute, cookie: name) }
        try Self.validateRules(name: name, domain: normalizedDomain, path: path, secure: secure, sameSite: sameSite, partitioned: partitioned)
        self.init(
            unchecked: name, value: value, expires: expires, maxAge: maxAge, domain: normalizedDomain, path: path,
            secure: secure, httpOnly: httpOnly, sameSite: sameSite, partitioned: partitioned, priority: priority,
            extensions: extensions, valueEncoding: valueEncoding
        )
    }

    init(
        unchecked name: String, value: String, expires: Date?, maxAge: Int?, domain: String?, path: String?,
        secure: Bool, httpOnly: Bool, sameSite: SameSite?, partitioned: Bool, priority: Priority?,
        extensions: [String], valueEncoding: CookieValueEncoding, emptyDomain: Bool = false
    ) {
        self.name = name
        self.value = value
        self.expires = expires
        self.maxAge = maxAge
        self.domain = domain
        self.path = path
        self.secure = secure
        self.httpOnly = httpOnly
        self.sameSite = sameSite
        self.partitioned = partitioned
        self.priority = priority
        self.extensions = extensions
        self.valueEncoding = valueEncoding
        self.emptyDomain = emptyDomain
    }

    /// The header that removes this cookie as it was set: the same name, Domain, Path, Secure,
    /// HttpOnly, SameSite and Partitioned, an empty value, `Expires=Thu, 01 Jan 1970 00:00:00 GMT` and
    /// `Max-Age=0`. Equal to Werkzeug's `delete_cookie` for the same attributes.
    ///
    /// ```swift
    /// let login = try SetCookie(name: "id", value: "x", domain: "example.com", path: "/app", secure: true)
    /// response.headers.add("Set-Cookie", login.deletion().headerValue)
    /// ```
    /// This cookie with another value and Expires date, checked as the initializer checks them; the
    /// other attributes were validated when this cookie was made. What the session engine uses to
    /// write each session cookie without validating its fixed attributes again.
    func replacing(value: String, expires: Date?) throws -> SetCookie {
        try Self.validateValue(value, name: name, encoding: valueEncoding)
        if let expires { try Self.validateExpires(expires, name: name) }
        return SetCookie(
            unchecked: name, value: value, expires: expires, maxAge: maxAge, domain: domain, path: path,
            secure: secure, httpOnly: httpOnly, sameSite: sameSite, partitioned: partitioned, priority: priority,
            extensions: extensions, valueEncoding: valueEncoding, emptyDomain: emptyDomain
        )
    }

    private static func validateValue(_ value: String, name: String, encoding: CookieValueEncoding) throws {
        let writtenCount: Int
        switch encoding.base {
        case .strict:
            guard isCookieValue(value) else {
                throw CookieError(.invalidValue, "the value of cookie '\(name)' is not cookie-octets (RFC 6265); use valueEncoding: .werkzeug to quote any string")
            }
            writtenCount = value.utf8.count
        case .werkzeug:
            writtenCount = werkzeugQuote(value).utf8.count
        }
        guard name.utf8.count + writtenCount <= 4096 else {
            throw CookieError(.tooLarge, "cookie '\(name)': name and value are \(name.utf8.count + writtenCount) bytes, browsers accept at most 4096")
        }
    }

    private static func validateExpires(_ expires: Date, name: String) throws {
        let t = expires.timeIntervalSince1970
        guard t.isFinite, t >= Double(CookieDate.supportedSeconds.lowerBound), t < Double(CookieDate.supportedSeconds.upperBound) + 1 else {
            throw CookieError(.invalidExpires, "cookie '\(name)': Expires must be a date in years 1-9999")
        }
    }

    public func deletion() -> SetCookie {
        SetCookie(
            unchecked: name, value: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, domain: domain, path: path,
            secure: secure || partitioned, httpOnly: httpOnly, sameSite: sameSite, partitioned: partitioned, priority: nil,
            extensions: [], valueEncoding: valueEncoding, emptyDomain: emptyDomain
        )
    }
}
