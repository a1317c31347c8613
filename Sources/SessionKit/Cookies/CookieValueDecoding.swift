/// How `RequestCookies` reads a `Cookie` header.
///
/// ```swift
/// let cookies = RequestCookies(header: #"a="x\073y""#, decoding: .werkzeug)
/// cookies["a"] // "x;y", as Flask's request.cookies
/// ```
public struct CookieValueDecoding: Sendable, Hashable, CustomStringConvertible {
    enum Base: Sendable, Hashable { case standard, werkzeug }
    let base: Base
    private init(_ base: Base) { self.base = base }

    /// RFC 6265: split on `;`, trim spaces and tabs around names and values, strip one pair of outer
    /// double quotes from a value; no unescaping. Commas and JSON-looking values are kept intact.
    public static let standard = CookieValueDecoding(.standard)
    /// Exactly Werkzeug 3.1's `parse_cookie`: a properly closed quoted string may contain a raw `;`,
    /// backslash escapes (`\073`, `\"`) are undone on the UTF-8 bytes (invalid UTF-8 becomes U+FFFD),
    /// names and values are trimmed as Python's `str.strip()` does. Reads every cookie Flask writes.
    public static let werkzeug = CookieValueDecoding(.werkzeug)

    public var description: String { base == .standard ? "standard" : "werkzeug" }
}
