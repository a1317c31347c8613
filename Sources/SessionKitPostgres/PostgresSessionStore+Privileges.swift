import Logging
import PostgresNIO
import SessionKit

extension PostgresSessionStore {
    /// ``migrateSchema(_:schema:tables:logger:)``, with PostgreSQL's `insufficient_privilege`
    /// (SQLSTATE 42501) turned into an error that says which role may not create what, and what to
    /// do about it, instead of a bare SQLSTATE: the usual first deployment has the app's role run
    /// the migration where only the owner may create (on PostgreSQL 15 and later, even in `public`).
    static func migrateSchemaExplainingPrivileges(
        _ connection: PostgresConnection, schema: String?, tables: Tables, logger: Logger
    ) async throws {
        do {
            try await migrateSchema(connection, schema: schema, tables: tables, logger: logger)
        } catch let error as PSQLError where error.code == .server && error.serverInfo?[.sqlState] == "42501" {
            throw await insufficientPrivilege(error, connection: connection, schema: schema, logger: logger)
        }
    }

    /// The error for a migration the server refused for lack of privilege. Asks the server who the
    /// role is (the migration's transaction is rolled back by then); names neither SQL nor values.
    static func insufficientPrivilege(
        _ error: PSQLError, connection: PostgresConnection, schema: String?, logger: Logger
    ) async -> SessionStoreError {
        var role = "?"
        var database = "?"
        var currentSchema = "public"
        if let rows = try? await connection.query(
            "SELECT current_user::text, current_database()::text, coalesce(current_schema()::text, 'public')", logger: logger
        ).collect(), let row = rows.first, let names = try? row.decode((String, String, String).self) {
            (role, database, currentSchema) = names
        }
        let target = schema ?? currentSchema
        let reason = error.serverInfo?[.message] ?? "permission denied"
        let message: String
        if reason.hasPrefix("permission denied for database") {
            message = "the role '\(role)' may not create schema '\(target)' (\(reason)): run the migration as the database's owner, or GRANT CREATE ON DATABASE \(database) TO \(role)"
        } else if reason.hasPrefix("permission denied for schema") {
            message = "the role '\(role)' may not create tables in schema '\(target)' (\(reason)): run the migration as the schema's owner, or GRANT CREATE ON SCHEMA \(target) TO \(role)"
        } else {
            message = "the role '\(role)' may not create or replace the session tables and functions in schema '\(target)' (\(reason)): run the migration as the owner of the schema and its objects, or grant CREATE"
        }
        return SessionStoreError(.unavailable, "PostgreSQL session store: \(message)")
    }
}
