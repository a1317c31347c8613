import NIOCore
import NIOPosix
import NIOSSL
import SessionKitConnectionPool
import Synchronization

/// A fixed number of ``RedisConnection``s used round-robin (a `PipelinedConnectionPool`), each
/// opened on first use and replaced when it breaks. Commands sent to the same connection are
/// pipelined, so a few connections carry many concurrent requests.
///
/// ```swift
/// let pool = RedisConnectionPool(options: .init(host: "127.0.0.1", port: 6379), size: 4)
/// let reply = try await pool.send(RedisCommand("GET", "key"))
/// pool.close()
/// ```
package final class RedisConnectionPool: Sendable {
    package let options: RedisConnection.Options
    private let pool: PipelinedConnectionPool<RedisConnection>

    package init(options: RedisConnection.Options, size: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.options = options
        // The TLS context every connection shares, made on first use (when ``RedisConnection/Options/tls`` is set).
        let tlsContext = SharedTLSContext()
        self.pool = PipelinedConnectionPool(size: size, closedError: { RedisClientError(.poolClosed, "the Redis connection pool is closed") }) {
            RedisConnection.connect(to: options, group: group, tlsContext: tlsContext.context(for: options))
        }
    }

    /// How many connections the pool keeps.
    package var size: Int { pool.size }

    /// Sends `command` on the next connection (opening or replacing it as needed) and returns the reply.
    package func send(_ command: RedisCommand) async throws -> RESPValue {
        try await connection().send(command)
    }

    /// Closes every connection; later sends throw ``RedisClientError/Kind/poolClosed``.
    package func close() {
        pool.close()
    }

    /// A live connection: the next one round-robin, opened (again) when it is missing or broken.
    package func connection() async throws -> RedisConnection {
        try await pool.connection()
    }
}

extension RedisConnection: PooledConnection {}

/// The TLS context of a pool's connections, made once.
private final class SharedTLSContext: Sendable {
    private let made = Mutex<NIOSSLContext?>(nil)

    /// The context for `options`; `nil` without TLS, or when it cannot be made
    /// (``RedisConnection/connect(to:group:tlsContext:)`` then tries and reports why, and a CA file
    /// that appears later is picked up).
    func context(for options: RedisConnection.Options) -> NIOSSLContext? {
        guard let tls = options.tls else { return nil }
        return made.withLock { context in
            if let context { return context }
            context = try? tls.makeContext()
            return context
        }
    }
}
