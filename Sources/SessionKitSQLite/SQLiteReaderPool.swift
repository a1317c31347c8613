import SessionKit
import Synchronization

/// The reader connections, each lent to one read at a time; a read runs on the calling thread.
///
/// A read of a session is a primary-key look-up in pages SQLite or the kernel has cached: a few
/// microseconds, less than handing it to another thread and back would cost (two thread
/// switches, which were most of a read's time through sqlite-nio). In WAL mode a reader does not
/// wait for the writer. A read that finds every connection lent waits for the first returned,
/// without blocking its thread.
///
/// Each read runs in a transaction of its own, so it sees every write committed before it started.
///
/// ```swift
/// let readers = SQLiteReaderPool([try SQLiteRawConnection(path: path)])
/// let n = try await readers.read { try $0.withStatement("SELECT count(*) FROM t") { try $0.step() ? $0.int64(0) : nil } }
/// await readers.close()
/// ```
final class SQLiteReaderPool: Sendable {
    private struct State {
        var idle: [SQLiteRawConnection]
        var waiters: [CheckedContinuation<SQLiteRawConnection?, Never>] = []
        var closed = false
        /// Every connection is closed: waiting reads get `nil`.
        var finished = false
    }

    private let connections: [SQLiteRawConnection]
    private let state: Mutex<State>

    init(_ connections: [SQLiteRawConnection]) {
        precondition(!connections.isEmpty)
        self.connections = connections
        self.state = Mutex(State(idle: connections))
    }

    /// Runs `body` with a connection no other read uses meanwhile.
    func read<Value>(_ body: (SQLiteRawConnection) throws -> Value) async throws -> Value {
        let connection = try await checkOut()
        defer { checkIn(connection) }
        return try body(connection)
    }

    /// Waits for the reads in flight, refuses new ones and closes every connection.
    func close() async {
        state.withLock { $0.closed = true }
        for _ in connections {
            // Each connection is returned to the closed pool once; take them all.
            guard let connection = await take() else { break }
            connection.close()
        }
        let waiters = state.withLock { state -> [CheckedContinuation<SQLiteRawConnection?, Never>] in
            state.finished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    private func checkOut() async throws -> SQLiteRawConnection {
        // The common case takes an idle connection without suspending.
        let immediate = state.withLock { state -> SQLiteRawConnection?? in
            if state.closed { return .some(nil) }
            return state.idle.popLast().map { .some($0) } ?? nil
        }
        switch immediate {
        case .some(.some(let connection)): return connection
        case .some(nil): throw SessionStoreError(.unavailable, "the SQLite session store is closed")
        case nil: break
        }
        guard let connection = await take() else {
            throw SessionStoreError(.unavailable, "the SQLite session store is closed")
        }
        return connection
    }

    /// The next idle connection, waiting for one when none is; `nil` once the pool is closed and
    /// no connection comes back.
    private func take() async -> SQLiteRawConnection? {
        await withCheckedContinuation { continuation in
            let taken = state.withLock { state -> SQLiteRawConnection?? in
                if let connection = state.idle.popLast() { return .some(connection) }
                if state.finished { return .some(nil) }
                state.waiters.append(continuation)
                return nil
            }
            if let taken { continuation.resume(returning: taken) }
        }
    }

    private func checkIn(_ connection: SQLiteRawConnection) {
        let waiter = state.withLock { state -> CheckedContinuation<SQLiteRawConnection?, Never>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.idle.append(connection)
            return nil
        }
        waiter?.resume(returning: connection)
    }
}
