import PostgresNIO
import SessionKit
import Synchronization

extension PostgresSessionStore {
    /// Runs `body` on a pooled connection, failing with ``SessionStoreError/Code/unavailable`` when
    /// no connection is leased within ``PostgresSessionStoreConfiguration/connectionTimeout``. Only
    /// the wait for a connection is timed: once `body` has a connection it runs to the end, so a
    /// timeout never leaves a write half done or of unknown outcome.
    func leasingConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let client = self.client
        let timeout = configuration.connectionTimeout
        do {
            return try await withThrowingTaskGroup(of: LeaseOutcome<Result>.self) { group in
                let lease = LeaseRace()
                group.addTask {
                    try await client.withConnection { connection in
                        guard lease.claim(.leased) else { throw LeaseTimeout() }
                        return .finished(try await body(connection))
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    if lease.claim(.timedOut) { throw LeaseTimeout() }
                    return .timerExpired
                }
                while let outcome = try await group.next() {
                    if case .finished(let result) = outcome {
                        group.cancelAll()
                        return result
                    }
                }
                throw LeaseTimeout()
            }
        } catch {
            throw Self.wrap(error)
        }
    }

    /// The store's error for any failure: store errors and cancellation as they are, undecodable
    /// rows as ``SessionStoreError/Code/corruptRecord``, everything else as
    /// ``SessionStoreError/Code/unavailable``. Messages name the kind of failure and a SQLSTATE,
    /// never SQL, bound values or connection secrets.
    static func wrap(_ error: any Error) -> any Error {
        switch error {
        case is SessionStoreError, is CancellationError:
            return error
        case is LeaseTimeout:
            return SessionStoreError(.unavailable, "PostgreSQL session store: no database connection became available in time")
        case is PostgresDecodingError:
            return corrupt
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

/// What a child task of ``PostgresSessionStore/leasingConnection(_:)`` ended with.
enum LeaseOutcome<Result: Sendable>: Sendable {
    case finished(Result)
    case timerExpired
}

/// The waiting-for-a-connection timer fired before a connection was leased.
struct LeaseTimeout: Error {}

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
}
