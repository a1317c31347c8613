import NIOCore
import Synchronization

/// A connection that ``PipelinedConnectionPool`` can hold: it says whether it can still carry
/// requests, and closes.
///
/// ```swift
/// extension RedisConnection: PooledConnection {}   // isActive, close()
/// ```
package protocol PooledConnection: AnyObject, Sendable {
    /// Whether the connection can still carry requests.
    var isActive: Bool { get }
    /// Closes the connection; requests waiting on it fail.
    func close()
}

/// A fixed number of pipelined connections (SessionKit's Redis and PostgreSQL clients), each
/// opened on first use and replaced when it breaks. A request takes the next connection
/// round-robin, or the one its affinity picks; requests on one connection are pipelined, so a few
/// connections carry many concurrent requests. Callers that wait for a connection being opened
/// share its attempt; a failed attempt leaves the slot empty for the next caller to try again.
///
/// ```swift
/// let pool = PipelinedConnectionPool<RedisConnection>(size: 4, closedError: { RedisClientError(.poolClosed, "closed") }) {
///     RedisConnection.connect(to: options)
/// }
/// let connection = try await pool.connection()
/// ```
package final class PipelinedConnectionPool<Connection: PooledConnection>: Sendable {
    private enum Slot {
        case empty
        case connecting(EventLoopFuture<Connection>)
        case ready(Connection)
    }

    private struct State {
        var slots: [Slot]
        var closed = false
    }

    package let size: Int
    private let connect: @Sendable () -> EventLoopFuture<Connection>
    private let closedError: @Sendable () -> any Error
    private let state: Mutex<State>
    private let next = Atomic<Int>(0)

    /// A pool of `size` connections (at least one), opened by `connect`; `closedError` is what a
    /// request gets once the pool is closed.
    package init(size: Int, closedError: @escaping @Sendable () -> any Error, connect: @escaping @Sendable () -> EventLoopFuture<Connection>) {
        self.size = max(1, size)
        self.connect = connect
        self.closedError = closedError
        self.state = Mutex(State(slots: Array(repeating: .empty, count: max(1, size))))
    }

    deinit {
        // A pool dropped without close(): do not leak its sockets.
        close()
    }

    /// Closes every connection; later requests throw `closedError`.
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

    /// A live connection: the one `affinity` picks, or the next one round-robin, opened (again)
    /// when it is missing or broken.
    package func connection(affinity: Int? = nil) async throws -> Connection {
        let index = ((affinity ?? next.wrappingAdd(1, ordering: .relaxed).oldValue) & Int.max) % size
        let found: Slot = try state.withLock { state in
            guard !state.closed else { throw closedError() }
            switch state.slots[index] {
            case .ready(let connection) where connection.isActive:
                return .ready(connection)
            case .connecting(let future):
                return .connecting(future)
            case .ready, .empty:
                let future = connect()
                state.slots[index] = .connecting(future)
                return .connecting(future)
            }
        }
        switch found {
        case .empty:
            preconditionFailure("a slot is never found empty: an empty one starts connecting")
        case .ready(let connection):
            return connection
        case .connecting(let future):
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
                    throw closedError()
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
