/// An error from the session layer: a missing key, a value of another type, an encoding failure,
/// an oversize cookie, a store failure or a configuration mistake.
///
/// ```swift
/// do {
///     let name = try session.require("username", as: String.self)
/// } catch let error as SessionError where error.code == .missingKey {
///     // Flask's KeyError
/// }
/// ```
public struct SessionError: Error, Sendable, CustomStringConvertible {
    /// What kind of error this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable { case missingKey, typeMismatch, encodingFailed, cookieTooLarge, storeUnavailable, configuration, invalidSessionID }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A throwing read found no value for the key.
        public static let missingKey = Code(.missingKey)
        /// The stored value does not decode as the requested type.
        public static let typeMismatch = Code(.typeMismatch)
        /// A value could not be encoded.
        public static let encodingFailed = Code(.encodingFailed)
        /// The encoded session cookie is larger than browsers accept.
        public static let cookieTooLarge = Code(.cookieTooLarge)
        /// The session store failed.
        public static let storeUnavailable = Code(.storeUnavailable)
        /// The session layer is configured wrongly (for example a missing or short secret).
        public static let configuration = Code(.configuration)
        /// A session ID is not of the shape SessionKit issues.
        public static let invalidSessionID = Code(.invalidSessionID)

        public var description: String { base.rawValue }
    }

    /// What kind of error this is.
    public let code: Code
    /// A sentence for people; never contains a secret or a cookie value.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "SessionError.\(code): \(message)" }

    @usableFromInline static func missingKey(_ key: String) -> SessionError {
        SessionError(.missingKey, "no value for session key '\(key)'")
    }
}
