/// An error from a session store.
///
/// ```swift
/// do {
///     try await store.create(key, stored)
/// } catch let error as SessionStoreError where error.code == .alreadyExists {
///     // generate another ID
/// }
/// ```
public struct SessionStoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of error this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable { case alreadyExists, corruptRecord, unavailable, injectedFault, invalidOperation }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// ``SessionStore/create(_:_:)`` or ``SessionStore/rename(_:to:)`` found a live session
        /// under the key.
        public static let alreadyExists = Code(.alreadyExists)
        /// A stored record could not be read back (corrupt or written by a newer version).
        public static let corruptRecord = Code(.corruptRecord)
        /// The store cannot serve requests (closed, unreachable, failed to open or migrate).
        public static let unavailable = Code(.unavailable)
        /// A ``SessionOperation`` a store will not apply: one on ``StoredSession/userIDKey``, whose
        /// value the user index follows (assign it instead).
        public static let invalidOperation = Code(.invalidOperation)
        /// A failure injected by a test store (SessionKitTesting's `FaultInjectingSessionStore`).
        public static let injectedFault = Code(.injectedFault)

        public var description: String { base.rawValue }
    }

    /// What kind of error this is.
    public let code: Code
    /// A sentence for people; never contains a session ID.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "SessionStoreError.\(code): \(message)" }

    static func alreadyExists(_ key: SessionStorageKey) -> SessionStoreError {
        SessionStoreError(.alreadyExists, "a live session already has the key \(key)")
    }
}
