import SQLiteNIO
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
    /// Counts of live and expired sessions and of signed-in users, in one read.
    public func statistics() async throws -> SQLiteSessionStoreStatistics {
        let rows = try await query("""
            SELECT
              COALESCE(SUM(expires_at > ?1), 0) AS live,
              COALESCE(SUM(expires_at <= ?1), 0) AS expired,
              (SELECT COUNT(DISTINCT user_id) FROM \(Self.table) WHERE user_id IS NOT NULL AND expires_at > ?1) AS users
            FROM \(Self.table)
            """, [.integer(Int(now()))])
        guard let row = rows.first else { return SQLiteSessionStoreStatistics(live: 0, expired: 0, users: 0) }
        return SQLiteSessionStoreStatistics(
            live: row.column("live")?.integer ?? 0,
            expired: row.column("expired")?.integer ?? 0,
            users: row.column("users")?.integer ?? 0
        )
    }
}
