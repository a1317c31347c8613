/// A failure of SessionKit's own PostgreSQL connections. Messages name the server's address, a
/// SQLSTATE and, for a refused start-up, the server's message; never a password, a statement's
/// values or its SQL.
///
/// ```swift
/// do { _ = try await pool.run(statement, bindings) }
/// catch let error as PostgresWireError where error.sqlState == "23505" { /* unique violation */ }
/// ```
struct PostgresWireError: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// The TCP connection, or the start-up on it, failed.
        case connectFailed
        /// The server refused the role or its password, or asked for a method SessionKit does not speak.
        case authenticationFailed
        /// TLS failed: not offered by a server that must offer it, the handshake, or the certificate.
        case tlsFailed
        /// The server answered a statement with an error (``PostgresWireError/sqlState``).
        case server
        /// The connection closed or broke before the answer arrived.
        case connectionClosed
        /// The request never left: its connection had closed. Safe to send again on another.
        case notSent
        /// No answer within the reply timeout (the connection is then closed).
        case timeout
        /// The server sent bytes that are not the PostgreSQL protocol.
        case protocolError
        /// The pool was shut down.
        case poolClosed
    }

    let kind: Kind
    let message: String
    /// The SQLSTATE of a server error (`23505`), else `nil`.
    let sqlState: String?

    init(_ kind: Kind, _ message: String, sqlState: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
    }

    var description: String { message }
}
