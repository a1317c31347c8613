/// An error from the cookie layer: a `SetCookie` that would be refused by browsers or would corrupt
/// the header, reported when the cookie is built (in release builds too).
///
/// ```swift
/// do {
///     _ = try SetCookie(name: "__Host-id", value: "abc", path: "/app")
/// } catch let error as CookieError where error.code == .prefixViolation {
///     // `__Host-` cookies need Secure, Path=/ and no Domain
/// }
/// ```
public struct CookieError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of error this is; compare with the static members (`error.code == .invalidName`).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidName, invalidValue, invalidDomain, invalidPath, invalidExpires, invalidSameSite
            case invalidExtension, tooLarge, prefixViolation, sameSiteNoneRequiresSecure, partitionedRequiresSecure
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The name is empty or not an RFC 7230 token.
        public static let invalidName = Code(.invalidName)
        /// The value is not cookie-octets (or a double-quoted cookie-octets string) in `.strict` encoding.
        public static let invalidValue = Code(.invalidValue)
        /// The Domain is not a host name (a URL, a port, spaces, an empty label, non-ASCII...).
        public static let invalidDomain = Code(.invalidDomain)
        /// The Path is empty, does not start with `/`, or contains `;`, a control character or non-ASCII.
        public static let invalidPath = Code(.invalidPath)
        /// The Expires date cannot be written as an IMF-fixdate (not finite, or outside years 1-9999).
        public static let invalidExpires = Code(.invalidExpires)
        /// A SameSite text is not `Strict`, `Lax` or `None` (Werkzeug's `ValueError`).
        public static let invalidSameSite = Code(.invalidSameSite)
        /// An extension attribute is empty or contains `;` or a control character.
        public static let invalidExtension = Code(.invalidExtension)
        /// Name plus value exceed 4096 bytes, or an attribute value exceeds 1024 bytes.
        public static let tooLarge = Code(.tooLarge)
        /// A `__Secure-` or `__Host-` name without the attributes the prefix demands.
        public static let prefixViolation = Code(.prefixViolation)
        /// `SameSite=None` without `Secure`: browsers reject the cookie.
        public static let sameSiteNoneRequiresSecure = Code(.sameSiteNoneRequiresSecure)
        /// `Partitioned` without `Secure`: browsers reject the cookie (CHIPS).
        public static let partitionedRequiresSecure = Code(.partitionedRequiresSecure)

        public var description: String { base.rawValue }
    }

    /// What kind of error this is.
    public let code: Code
    /// A sentence for people. It names the cookie but never contains its value.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "CookieError.\(code): \(message)" }
}
