/// A failure of the small Redis client under ``RedisSessionStore``. Messages name the server's
/// address at most, never a password or a command's arguments.
///
/// ```swift
/// do { _ = try await pool.send(RedisCommand("PING")) }
/// catch let error as RedisClientError where error.kind == .timeout { print("Redis is slow") }
/// ```
package struct RedisClientError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// The TCP connection (or a setup command on it) failed.
        case connectFailed
        /// The server rejected the user name or password (`WRONGPASS`, or `AUTH` refused), or wants
        /// one that was not given (`NOAUTH`).
        case authenticationFailed
        /// `SELECT` failed: the server has no such database (`ERR DB index is out of range`).
        case databaseUnavailable
        /// The server does not speak RESP: not Redis, or TLS where plain text was expected.
        case notRedis
        /// TLS failed: the handshake (a plain-text server, an unsupported version), the server's
        /// certificate (not signed by a trusted authority, or for another name), or the local setup
        /// (an unreadable CA file).
        case tlsFailed
        /// The connection closed or broke before the reply arrived.
        case connectionClosed
        /// No reply within the command timeout (the connection is then closed).
        case timeout
        /// The server sent bytes that are not RESP2.
        case protocolError
        /// The pool was shut down.
        case poolClosed
        /// Redis Cluster answered `CLUSTERDOWN` (slots without a master), or no node of it could
        /// tell which master serves a slot.
        case clusterDown
        /// Redis Cluster kept redirecting a command (`MOVED`, `ASK`, `TRYAGAIN`, a migrating slot)
        /// past the retry budget.
        case clusterRedirected
    }

    package let kind: Kind
    package let message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String { message }
}
