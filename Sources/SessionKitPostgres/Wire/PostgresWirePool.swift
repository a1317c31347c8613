import NIOCore
import NIOPosix
import Synchronization

/// A fixed number of ``PostgresWireConnection``s used round-robin, each opened on first use and
/// replaced when it breaks. Statements sent to one connection are pipelined, so a few connections
/// carry many concurrent requests. A statement that never left (its connection had just closed) is
/// sent once more on a fresh connection; one that left is never repeated.
///
/// ```swift
/// let pool = PostgresWirePool(options: options, size: 8)
/// let result = try await pool.run(statement, bindings)
/// pool.close()
/// ```
final class PostgresWirePool: Sendable {
    private enum Slot {
        case empty
        case connecting(EventLoopFuture<PostgresWireConnection>)
        case ready(PostgresWireConnection)
    }

    private struct State {
        var slots: [Slot]
        var closed = false
    }

    let options: PostgresWireConnection.Options
    let size: Int
    private let group: any EventLoopGroup
    private let state: Mutex<State>
    private let next = Atomic<Int>(0)

    init(options: PostgresWireConnection.Options, size: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.options = options
        self.size = max(1, size)
        self.group = group
        self.state = Mutex(State(slots: Array(repeating: .empty, count: max(1, size))))
    }

    deinit {
        close()
    }

    /// Runs `statement` on a connection (opening or replacing it as needed): the one `affinity`
    /// picks when given, else the next one round-robin. Statements with the same affinity (the
    /// store gives a session's key) run on one connection, in order, so the requests of one busy
    /// session queue there instead of waiting for the row's lock on several database backends.
    func run(_ statement: PostgresWireStatement, _ bindings: PostgresWireBindings, affinity: Int? = nil) async throws -> PostgresWireResult {
        do {
            return try await connection(affinity: affinity).run(statement, bindings).get()
        } catch let error as PostgresWireError where error.kind == .notSent {
            return try await connection(affinity: affinity).run(statement, bindings).get()
        }
    }

    /// Closes every connection; later runs throw ``PostgresWireError/Kind/poolClosed``.
    func close() {
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
    func connection(affinity: Int? = nil) async throws -> PostgresWireConnection {
        enum Found {
            case ready(PostgresWireConnection)
            case pending(EventLoopFuture<PostgresWireConnection>)
        }
        let index = ((affinity ?? next.wrappingAdd(1, ordering: .relaxed).oldValue) & Int.max) % size
        let found: Found = try state.withLock { state in
            guard !state.closed else { throw PostgresWireError(.poolClosed, "the PostgreSQL session store is shut down") }
            switch state.slots[index] {
            case .ready(let connection) where connection.isActive:
                return .ready(connection)
            case .connecting(let future):
                return .pending(future)
            case .ready, .empty:
                let future = PostgresWireConnection.connect(to: options, group: group)
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
                    throw PostgresWireError(.poolClosed, "the PostgreSQL session store is shut down")
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
