import NIOCore
import NIOPosix
import SessionKitConnectionPool

/// A fixed number of ``PostgresWireConnection``s (a `PipelinedConnectionPool`), each opened on
/// first use and replaced when it breaks. Statements sent to one connection are pipelined, so a few
/// connections carry many concurrent requests. A statement that never left (its connection had
/// just closed) is sent once more on a fresh connection; one that left is never repeated.
///
/// ```swift
/// let pool = PostgresWirePool(options: options, size: 8)
/// let result = try await pool.run(statement, bindings)
/// pool.close()
/// ```
final class PostgresWirePool: Sendable {
    let options: PostgresWireConnection.Options
    private let pool: PipelinedConnectionPool<PostgresWireConnection>

    init(options: PostgresWireConnection.Options, size: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.options = options
        self.pool = PipelinedConnectionPool(
            size: size, closedError: { PostgresWireError(.poolClosed, "the PostgreSQL session store is shut down") }
        ) {
            PostgresWireConnection.connect(to: options, group: group)
        }
    }

    /// How many connections the pool keeps.
    var size: Int { pool.size }

    /// Runs `statement` on a connection (opening or replacing it as needed): the one `affinity`
    /// picks when given, else the next one round-robin. Statements with the same affinity (the
    /// store gives a session's key) run on one connection, in order, so the requests of one busy
    /// session queue there instead of waiting for the row's lock on several database backends.
    func run(_ statement: PostgresWireStatement, _ bindings: PostgresWireBindings, affinity: Int? = nil) async throws -> PostgresWireResult {
        do {
            return try await pool.connection(affinity: affinity).run(statement, bindings)
        } catch let error as PostgresWireError where error.kind == .notSent {
            return try await pool.connection(affinity: affinity).run(statement, bindings)
        }
    }

    /// A live connection (see ``run(_:_:affinity:)``).
    func connection(affinity: Int? = nil) async throws -> PostgresWireConnection {
        try await pool.connection(affinity: affinity)
    }

    /// Closes every connection; later runs throw ``PostgresWireError/Kind/poolClosed``.
    func close() {
        pool.close()
    }
}

extension PostgresWireConnection: PooledConnection {}
