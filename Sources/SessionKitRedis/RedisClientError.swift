/// A failure of the small Redis client under ``RedisSessionStore``. Messages name the server's
/// address at most, never a password or a command's arguments.
///
/// ```swift
/// do { _ = try await pool.send(RedisCommand("PING")) }
/// catch let error as RedisClientError where error.kind == .timeout { print("Redis is slow") }
/// ```
package struct RedisClientError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// The TCP connection (or AUTH/SELECT on it) failed.
        case connectFailed
        /// The connection closed or broke before the reply arrived.
        case connectionClosed
        /// No reply within the command timeout (the connection is then closed).
        case timeout
        /// The server sent bytes that are not RESP2.
        case protocolError
        /// The pool was shut down.
        case poolClosed
    }

    package let kind: Kind
    package let message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String { message }
}
