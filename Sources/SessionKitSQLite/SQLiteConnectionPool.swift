import SQLiteNIO
import Synchronization

/// A fixed set of connections, each used by one statement at a time, handed out first come first
/// served.
///
/// Exclusive use matters for correctness, not speed: SQLite shares one transaction among all the
/// statements active on a connection, so a write that overlapped another statement could commit
/// late, and a read that overlapped a long one could see that one's older snapshot.
///
/// ```swift
/// let pool = SQLiteConnectionPool([connection])
/// let rows = try await pool.withConnection { try await $0.query("SELECT 1") }
/// ```
final class SQLiteConnectionPool: Sendable {
    private struct State {
        var idle: [SQLiteConnection]
        var waiters: [CheckedContinuation<SQLiteConnection, Never>] = []
    }

    /// Every connection of the pool, in use or not.
    let connections: [SQLiteConnection]
    private let state: Mutex<State>

    init(_ connections: [SQLiteConnection]) {
        precondition(!connections.isEmpty)
        self.connections = connections
        self.state = Mutex(State(idle: connections))
    }

    /// Runs `body` with a connection no other caller uses meanwhile.
    func withConnection<Result>(_ body: (SQLiteConnection) async throws -> Result) async throws -> Result {
        let connection = await checkOut()
        defer { checkIn(connection) }
        return try await body(connection)
    }

    /// Waits until every connection is idle and takes them all out of use (for closing).
    func drain() async -> [SQLiteConnection] {
        var drained: [SQLiteConnection] = []
        for _ in connections { drained.append(await checkOut()) }
        return drained
    }

    private func checkOut() async -> SQLiteConnection {
        await withCheckedContinuation { continuation in
            let connection = state.withLock { state -> SQLiteConnection? in
                if let connection = state.idle.popLast() { return connection }
                state.waiters.append(continuation)
                return nil
            }
            if let connection { continuation.resume(returning: connection) }
        }
    }

    private func checkIn(_ connection: SQLiteConnection) {
        let waiter = state.withLock { state -> CheckedContinuation<SQLiteConnection, Never>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.idle.append(connection)
            return nil
        }
        waiter?.resume(returning: connection)
    }
}
