import Logging
import PostgresNIO
import SessionKit

extension PostgresSessionStore {
    /// Creates the schema or migrates an older one in one transaction. An advisory lock serializes
    /// the app servers that start at the same time; every statement is idempotent, so a second run
    /// changes nothing.
    static func migrateSchema(
        _ connection: PostgresConnection, schema: String?, tables: Tables, logger: Logger
    ) async throws {
        try await inTransaction(connection, logger: logger) {
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("sessionkit.migrate." + (schema ?? ""))))", logger: logger)
            if let schema {
                try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: quoted(schema))", logger: logger)
            }
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS \(unescaped: tables.schemaVersions) (
                    component text PRIMARY KEY,
                    version integer NOT NULL
                )
                """, logger: logger)
            var version = 0
            for try await row in try await connection.query(
                "SELECT version FROM \(unescaped: tables.schemaVersions) WHERE component = 'sessions'", logger: logger
            ) {
                version = Int(try row.decode(Int32.self))
            }
            if version > schemaVersion {
                throw SessionStoreError(.unavailable, "the session database has schema version \(version), newer than this SessionKit's \(schemaVersion)")
            }
            if version < 1 {
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS \(unescaped: tables.sessions) (
                        key_hash bytea PRIMARY KEY,
                        data bytea NOT NULL,
                        user_id text,
                        created_at bigint NOT NULL,
                        last_seen_at bigint NOT NULL,
                        expires_at bigint NOT NULL,
                        absolute_expires_at bigint NOT NULL,
                        user_agent text,
                        ip_address text
                    )
                    """, logger: logger)
                try await connection.query("""
                    CREATE INDEX IF NOT EXISTS \(unescaped: tableName)_expires_at ON \(unescaped: tables.sessions) (expires_at)
                    """, logger: logger)
                try await connection.query("""
                    CREATE INDEX IF NOT EXISTS \(unescaped: tableName)_user_id ON \(unescaped: tables.sessions) (user_id, created_at)
                    WHERE user_id IS NOT NULL
                    """, logger: logger)
            }
            // Later versions: `if version < 2 { ALTER TABLE ... }`.
            try await connection.query("""
                INSERT INTO \(unescaped: tables.schemaVersions) (component, version) VALUES ('sessions', \(Int32(schemaVersion)))
                ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version
                """, logger: logger)
        }
    }

    /// Runs `body` between `BEGIN` and `COMMIT`, rolling back when it throws. A connection whose
    /// rollback fails is closed, so the pool never hands out one stuck in a transaction.
    static func inTransaction<Result>(
        _ connection: PostgresConnection, logger: Logger, _ body: () async throws -> Result
    ) async throws -> Result {
        try await connection.query("BEGIN", logger: logger)
        let result: Result
        do {
            result = try await body()
        } catch {
            do {
                try await connection.query("ROLLBACK", logger: logger)
            } catch {
                try? await connection.close()
            }
            throw error
        }
        try await connection.query("COMMIT", logger: logger)
        return result
    }

    /// `name` as a quoted SQL identifier (it is a checked plain identifier).
    static func quoted(_ name: String) -> String { "\"\(name)\"" }
}

/// The qualified names of the store's tables.
struct Tables: Sendable {
    let sessions: String
    let schemaVersions: String

    init(schema: String?) {
        let prefix = schema.map { PostgresSessionStore.quoted($0) + "." } ?? ""
        sessions = prefix + PostgresSessionStore.tableName
        schemaVersions = prefix + "sessionkit_schema"
    }
}
