import PostgresNIO
import SessionKit
import Synchronization

extension PostgresSessionStore {
    /// Runs `body` on a pooled connection, failing with ``/SessionKit/SessionStoreError/Code/unavailable`` when
    /// no connection is leased within ``PostgresSessionStoreConfiguration/connectionTimeout``. The
    /// timeout never cuts a running `body` short: on an open connection it runs to the end, so a
    /// timeout never leaves a write half done or of unknown outcome.
    ///
    /// The caller gets its answer when the timer fires, whether or not the pool has given up
    /// waiting by then: a pool that is reconnecting to a database that went away may not end a
    /// cancelled wait until it has a connection again, and a request must not wait for that (a
    /// fleet test saw a request held 20 s in a PostgreSQL outage). The late lease, if any, finds
    /// the race lost and hands its connection back without running `body`.
    ///
    /// The timer keeps watching a lease while its `body` runs: when a timeout passes and the
    /// body's connection has closed under it in a way postgres-nio never reports (a statement
    /// written after its channel closed), the caller gets the failure then (``LeasedConnection``).
    func leasingConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let client = self.client
        let watchdog = leaseWatchdog
        let lease = LeaseRace()
        let outcome = LeaseOutcome<Result>()
        // The lease runs in a task of its own, which the watchdog can cancel while it waits for a
        // connection without cancelling the caller; one timer serves every lease of the store.
        let waiting = LeaseTask<Result>()
        let held = LeasedConnection()
        @Sendable func expired() {
            if lease.claim(.timedOut) {
                waiting.cancel()
                outcome.finish(.failure(LeaseTimeout()))
                return
            }
            // The lease won: its body has run for a timeout. On a closed connection it will never
            // end; on an open one (a slow statement), look again one timeout later.
            if let connection = held.connection, connection.isClosed {
                outcome.finish(.failure(LeasedConnectionClosed()))
            } else {
                held.watch(watchdog, expired)
            }
        }
        held.watch(watchdog, expired)
        defer { held.finish(watchdog) }
        let leasing = Task {
            do {
                let value = try await client.withConnection { connection in
                    guard lease.claim(.leased) else { throw LeaseTimeout() }
                    held.set(connection)
                    return try await body(connection)
                }
                outcome.finish(.success(value))
                return value
            } catch {
                outcome.finish(.failure(error))
                throw error
            }
        }
        waiting.set(leasing)
        do {
            return try await withTaskCancellationHandler {
                try await outcome.value()
            } onCancel: {
                leasing.cancel()
                // Still waiting for a connection: the caller leaves now (a running body is not
                // interrupted: it ends on its own, and its result is what the caller gets).
                if lease.claim(.timedOut) { outcome.finish(.failure(CancellationError())) }
            }
        } catch {
            throw Self.wrap(error)
        }
    }

    /// The store's error for any failure: store errors and cancellation as they are, undecodable
    /// rows as ``/SessionKit/SessionStoreError/Code/corruptRecord``, everything else as
    /// ``/SessionKit/SessionStoreError/Code/unavailable``. Messages name the kind of failure and a SQLSTATE,
    /// never SQL, bound values or connection secrets.
    static func wrap(_ error: any Error) -> any Error {
        switch error {
        case is SessionStoreError, is CancellationError:
            return error
        case is LeaseTimeout:
            return SessionStoreError(.unavailable, "PostgreSQL session store: no database connection became available in time")
        case is LeasedConnectionClosed:
            return SessionStoreError(.unavailable, "PostgreSQL session store: the database connection closed under a running statement")
        case is PostgresDecodingError, is PostgresWireRow.Malformed:
            return corrupt
        case let error as PostgresWireError:
            if error.kind == .server {
                // data_corrupted: sessionkit_apply_delta found a malformed stored record.
                if error.sqlState == "XX001" { return corrupt }
                return SessionStoreError(.unavailable, "PostgreSQL session store: the server reported an error (SQLSTATE \(error.sqlState ?? "unknown"))")
            }
            return SessionStoreError(.unavailable, "PostgreSQL session store: \(error.message)")
        case let error as PSQLError:
            if error.code == .server {
                let state = error.serverInfo?[.sqlState] ?? "unknown"
                // data_corrupted: sessionkit_apply_delta found a malformed stored record.
                if state == "XX001" { return corrupt }
                return SessionStoreError(.unavailable, "PostgreSQL session store: the server reported an error (SQLSTATE \(state))")
            }
            return SessionStoreError(.unavailable, "PostgreSQL session store: cannot use the database connection (\(error.code))")
        default:
            return SessionStoreError(.unavailable, "PostgreSQL session store: cannot reach the database (\(type(of: error)))")
        }
    }

    /// Whether `error` is PostgreSQL's unique violation (SQLSTATE 23505).
    static func isUniqueViolation(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.code == .server else { return false }
        return error.serverInfo?[.sqlState] == "23505"
    }

    static var corrupt: SessionStoreError {
        SessionStoreError(.corruptRecord, "a stored session row could not be read")
    }
}

/// The waiting-for-a-connection timer fired before a connection was leased.
struct LeaseTimeout: Error {}

/// The task that waits for a connection, for the watchdog to cancel; a cancel that comes before
/// the task is known cancels it as soon as it is.
final class LeaseTask<Result: Sendable>: Sendable {
    private struct State {
        var task: Task<Result, any Error>?
        var cancelled = false
    }

    private let state = Mutex(State())

    func set(_ task: Task<Result, any Error>) {
        let cancelled = state.withLock { state -> Bool in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        let task = state.withLock { state -> Task<Result, any Error>? in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }
}

/// The answer a lease's caller waits for: the first of the lease's result, the timer's timeout and
/// the caller's cancellation.
final class LeaseOutcome<Value: Sendable>: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<Value, any Error>)
        case finished(Result<Value, any Error>)
        case consumed
    }

    private let state = Mutex<State>(.empty)

    /// Sets the answer; only the first call counts.
    func finish(_ result: Result<Value, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            switch state {
            case .empty:
                state = .finished(result)
                return nil
            case .waiting(let continuation):
                state = .consumed
                return continuation
            case .finished, .consumed:
                return nil
            }
        }
        continuation?.resume(with: result)
    }

    /// Waits for the answer (call it once).
    func value() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<Value, any Error>? in
                switch state {
                case .empty:
                    state = .waiting(continuation)
                    return nil
                case .finished(let result):
                    state = .consumed
                    return result
                case .waiting, .consumed:
                    preconditionFailure("a lease's outcome is awaited once")
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

/// Decides, exactly once, whether the lease or the timer won.
final class LeaseRace: Sendable {
    enum Winner: UInt8 {
        case leased = 1
        case timedOut = 2
    }

    private let state = Atomic<UInt8>(0)

    /// `true` when `winner` is the first to claim the race.
    func claim(_ winner: Winner) -> Bool {
        state.compareExchange(expected: 0, desired: winner.rawValue, ordering: .acquiringAndReleasing).exchanged
    }

    /// Whether the timer won the race.
    var timedOut: Bool { state.load(ordering: .acquiring) == Winner.timedOut.rawValue }
}
