import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A fixed number of ``RedisConnection``s used round-robin, each opened on first use and replaced
/// when it breaks. Commands sent to the same connection are pipelined, so a few connections carry
/// many concurrent requests.
///
/// ```swift
/// let pool = RedisConnectionPool(options: .init(host: "127.0.0.1", port: 6379), size: 4)
/// let reply = try await pool.send(RedisCommand("GET", "key"))
/// pool.close()
/// ```
package final class RedisConnectionPool: Sendable {
    private enum Slot {
        case empty
        case connecting(EventLoopFuture<RedisConnection>)
        case ready(RedisConnection)
    }

    private struct State {
        var slots: [Slot]
        var closed = false
    }

    package let options: RedisConnection.Options
    package let size: Int
    private let group: any EventLoopGroup
    private let state: Mutex<State>
    private let next = Atomic<Int>(0)
    /// The TLS context every connection shares, made on first use (when ``RedisConnection/Options/tls`` is set).
    private let tlsContext = Mutex<NIOSSLContext?>(nil)

    package init(options: RedisConnection.Options, size: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.options = options
        self.size = max(1, size)
        self.group = group
        self.state = Mutex(State(slots: Array(repeating: .empty, count: max(1, size))))
    }

    deinit {
        // A pool dropped without close(): do not leak its sockets.
        close()
    }

    /// Sends `command` on the next connection (opening or replacing it as needed) and returns the reply.
    package func send(_ command: RedisCommand) async throws -> RESPValue {
        try await connection().send(command).get()
    }

    /// Closes every connection; later sends throw ``RedisClientError/Kind/poolClosed``.
    package func close() {
        let slots = state.withLock { state -> [Slot] in
            state.closed = true
            defer { state.slots = Array(repeating: .empty, count: state.slots.count) }
            return state.slots
        }
        for slot in slots {
            switch slot {
            case .empty: break
            case .ready(let connection): connection.close()
            case .connecting(let future): future.whenSuccess { $0.close() }
            }
        }
    }

    /// The TLS context for new connections, made once; `nil` without TLS, or when it cannot be made
    /// (``RedisConnection/connect(to:group:tlsContext:)`` then tries and reports why, and a CA file
    /// that appears later is picked up).
    private func sharedTLSContext() -> NIOSSLContext? {
        guard let tls = options.tls else { return nil }
        return tlsContext.withLock { context in
            if let context { return context }
            context = try? tls.makeContext()
            return context
        }
    }

    /// A live connection: the next one round-robin, opened (again) when it is missing or broken.
    package func connection() async throws -> RedisConnection {
        enum Found {
            case ready(RedisConnection)
            case pending(EventLoopFuture<RedisConnection>)
        }
        let index = (next.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max) % size
        let found: Found = try state.withLock { state in
            guard !state.closed else { throw RedisClientError(.poolClosed, "the Redis connection pool is closed") }
            switch state.slots[index] {
            case .ready(let connection) where connection.isActive:
                return .ready(connection)
            case .connecting(let future):
                return .pending(future)
            case .ready, .empty:
                let future = RedisConnection.connect(to: options, group: group, tlsContext: sharedTLSContext())
                state.slots[index] = .connecting(future)
                return .pending(future)
            }
        }
        switch found {
        case .ready(let connection):
            return connection
        case .pending(let future):
            do {
                let connection = try await future.get()
                let closed = state.withLock { state in
                    if case .connecting(let current) = state.slots[index], current === future, !state.closed {
                        state.slots[index] = .ready(connection)
                    }
                    return state.closed
                }
                if closed {
                    connection.close()
                    throw RedisClientError(.poolClosed, "the Redis connection pool is closed")
                }
                return connection
            } catch {
                // Let the next caller try again.
                state.withLock { state in
                    if case .connecting(let current) = state.slots[index], current === future { state.slots[index] = .empty }
                }
                throw error
            }
        }
    }
}
