import SessionKit

/// Counts for operators (`sessionkit sessions list`): how many sessions, how many expired and
/// waiting for cleanup, how many signed-in users.
///
/// ```swift
/// let stats = try await store.statistics()
/// print(stats.live, stats.expired, stats.users)
/// ```
public struct SQLiteSessionStoreStatistics: Sendable, Equatable {
    /// Sessions that have not expired.
    public var live: Int
    /// Expired sessions not yet removed by cleanup.
    public var expired: Int
    /// Distinct users with at least one live session.
    public var users: Int
}

extension SQLiteSessionStore {
    private static let statisticsSQL = """
        SELECT
          COALESCE(SUM(expires_at > ?1), 0) AS live,
          COALESCE(SUM(expires_at <= ?1), 0) AS expired,
          (SELECT COUNT(DISTINCT user_id) FROM \(table) WHERE user_id IS NOT NULL AND expires_at > ?1) AS users
        FROM \(table)
        """

    /// Counts of live and expired sessions and of signed-in users, in one read.
    public func statistics() async throws -> SQLiteSessionStoreStatistics {
        let now = now()
        return try await read { connection in
            try connection.withStatement(Self.statisticsSQL) { statement in
                try statement.bind(1, now)
                guard try statement.step() else { return SQLiteSessionStoreStatistics(live: 0, expired: 0, users: 0) }
                return SQLiteSessionStoreStatistics(
                    live: Int(statement.int64(0) ?? 0),
                    expired: Int(statement.int64(1) ?? 0),
                    users: Int(statement.int64(2) ?? 0)
                )
            }
        }
    }
}
