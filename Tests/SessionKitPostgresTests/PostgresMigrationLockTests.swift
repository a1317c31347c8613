import Logging
import PostgresNIO
import SessionKit
import SessionKitPostgres
import Testing

/// The migration's advisory lock: a failure while waiting for it is the error the migration
/// reports, not the "current transaction is aborted" (SQLSTATE 25P02) of the statement after it.
///
/// ```swift
/// // Another server holds the lock; the waiting migration's statement is cancelled:
/// await #expect(throws: SessionStoreError.self) { try await store.migrate() }  // ... SQLSTATE 57014
/// ```
@Suite("PostgresSessionStore migration lock", .enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason))
struct PostgresMigrationLockTests {
    /// The lock statement returns a row, so postgres-nio hands back its rows before the server has
    /// run it: an error while waiting for the lock (a statement timeout, a cancel) arrives with the
    /// rows. Found by scripts/test --sanitize thread and address (slow enough for two migrations to
    /// wait on each other past the statement timeout): the error the store reported was 25P02.
    @Test func aFailedWaitForTheMigrationLockIsTheErrorReported() async throws {
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            let store = database.makeStore(schema: schema)
            let logger = Logger(label: "test")
            try await database.client.withConnection { holder in
                // Another app server's migration holds the lock of this schema.
                try await holder.query("BEGIN", logger: logger)
                let key = "sessionkit.migrate." + schema
                let lock: PostgresQuery = "SELECT pg_advisory_xact_lock(hashtext(\(key)))"
                _ = try await holder.query(lock, logger: logger).collect()
                let migration = Task { try await store.migrate() }
                // Cancel the statement that waits for that lock (as a statement timeout would end it).
                var cancelled = false
                for _ in 0..<400 where !cancelled {
                    let cancel: PostgresQuery = """
                        SELECT pg_cancel_backend(pid) FROM pg_locks
                        WHERE locktype = 'advisory' AND NOT granted AND pid <> pg_backend_pid()
                          AND objid::text::bigint = (hashtext(\(key))::bigint & 4294967295)
                        """
                    let rows = try await holder.query(cancel, logger: logger).collect()
                    cancelled = !rows.isEmpty
                    if !cancelled { try await Task.sleep(for: .milliseconds(25)) }
                }
                #expect(cancelled, "the migration never waited for the lock")
                let error = await #expect(throws: SessionStoreError.self) { try await migration.value }
                let message = error.map { String(describing: $0) } ?? ""
                #expect(message.contains("57014"), "the cancelled wait (57014 query_canceled) is the error: \(message)")
                #expect(!message.contains("25P02"), "not the aborted transaction's next statement: \(message)")
                try await holder.query("ROLLBACK", logger: logger)
            }
            // Once the lock is free, the migration goes through.
            try await store.migrate()
        }
    }
}
