/// How `SetCookie` writes its value.
///
/// ```swift
/// let a = try SetCookie(name: "token", value: "abc123")                                // strict: must be cookie-octets
/// let b = try SetCookie(name: "note", value: "hello, world", valueEncoding: .werkzeug) // note="hello\054 world"
/// ```
public struct CookieValueEncoding: Sendable, Hashable, CustomStringConvertible {
    enum Base: Sendable, Hashable { case strict, werkzeug }
    let base: Base
    private init(_ base: Base) { self.base = base }

    /// RFC 6265 `cookie-value`: cookie-octets, or cookie-octets inside one pair of double quotes, written
    /// verbatim. Anything else is refused with `CookieError.Code.invalidValue`.
    public static let strict = CookieValueEncoding(.strict)
    /// Werkzeug 3.1's quoting: any string is allowed; a value with characters outside Werkzeug's safe set
    /// is written as a quoted string with `\"`, `\\` and octal escapes (`\073` for `;`), byte-identical to
    /// Flask's `response.set_cookie`. Read it back with `CookieValueDecoding.werkzeug`.
    public static let werkzeug = CookieValueEncoding(.werkzeug)

    public var description: String { base == .strict ? "strict" : "werkzeug" }
}
