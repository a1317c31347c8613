import PostgresNIO

/// The SQL of the store's frequent statements (a request's load, touch and write), made once per
/// store for its tables, with a name for each that is unique to its text.
///
/// They run as prepared statements (postgres-nio's `PostgresPreparedStatement`): each connection
/// parses and plans one the first time it runs it, and afterwards a request sends only its values
/// (Bind, Execute), so neither the server nor the client handles the SQL again. postgres-nio reads a
/// statement's SQL and name from static properties of its type, while this store's SQL depends on
/// the configured schema, so the statement types read them from the statements of the store that
/// runs them, which ``PostgresSessionStore`` sets as a task-local value around each execution
/// (``PostgresSessionStore/rows(_:on:)``); postgres-nio reads both before its first suspension.
///
/// ```swift
/// let rows = try await store.rows(PostgresLoadStatement(key: key, now: now), on: connection)
/// ```
struct PostgresSessionStatements: Sendable {
    /// A statement's name on the connection and its SQL.
    struct Statement: Sendable {
        let name: String
        let sql: String

        init(_ operation: String, _ sql: String) {
            self.sql = sql
            // Unique to the text (so two stores with different schemas on one client never mix
            // theirs up) and within PostgreSQL's 63-byte limit on names.
            self.name = "sessionkit_\(operation)_\(Self.fingerprint(sql))"
        }

        /// 64-bit FNV-1a of `text`, in hexadecimal.
        static func fingerprint(_ text: String) -> String {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            let digits = String(hash, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
    }

    let load: Statement
    /// The touching load (`load(_:touchingIfDue:)`).
    let loadTouch: Statement
    let touch: Statement
    let replaceAll: Statement
    /// ``replaceAll`` while the row is at a revision (`$6`, the `xmin` a load returned), else
    /// ``update`` with the delta in `$7`-`$9`.
    let replaceAtRevision: Statement
    let update: Statement
    let updateApplying: Statement
    /// A new session (``PostgresSessionStore/create(_:_:)``): `$1` the key, `$2` the values, `$3`
    /// the user, `$4` created, `$5` last seen, `$6` the first deadline, `$7` the absolute one, `$8`
    /// the user agent, `$9` the address, `$10` now. It replaces only an expired row under the key.
    let create: Statement
    /// `$1` the key.
    let delete: Statement

    init(tables: Tables) {
        let table = tables.sessions
        // Every write moves the idle deadline (capped by the absolute one) and lastSeenAt, and
        // lowers the cleanup column only when the deadline moves before it (so the usual write
        // changes no indexed column and stays a HOT update); none changes a session that is gone.
        let deadlines = """
            expires_at = LEAST($1, absolute_expires_at), sweep_at = LEAST(sweep_at, $1, absolute_expires_at), last_seen_at = $2
            """
        let live = "WHERE key_hash = $3 AND expires_at > $2 RETURNING 1"
        // The last column, the row version's `xmin`, is the session's revision: a write of the
        // loaded values with a delta applied is made only while the row is still at it.
        load = Statement("load", """
            SELECT data, created_at, last_seen_at, expires_at, absolute_expires_at, user_agent, ip_address, xmin::text::int8
            FROM \(table) WHERE key_hash = $1 AND expires_at > $2
            """)
        // The load, and for a row that is due, its touch (`sessionkit_touch_if_due`, called only
        // then): live by the engine's clock ($3) too, and due under both windows ($4, whichever
        // applies), or due under the idle window ($5) and surely not permanent (no `_permanent`
        // entry in the blob). The function is named once: each function a statement names costs
        // the executor's start-up a look-up and a permission check on every execution.
        loadTouch = Statement("load_touch", """
            SELECT data, created_at, last_seen_at, expires_at, absolute_expires_at, user_agent, ip_address,
                CASE WHEN expires_at >= $3 AND (last_seen_at <= $4
                          OR (last_seen_at <= $5 AND position(\(PostgresSessionStore.permanentEntryBytes) IN data) = 0))
                     THEN \(tables.touchIfDue)(key_hash, data, $2, $6, $5, $7, $8)
                END,
                xmin::text::int8
            FROM \(table) WHERE key_hash = $1 AND expires_at > $2
            """)
        touch = Statement("touch", "UPDATE \(table) SET \(deadlines) \(live)")
        replaceAll = Statement("replace", "UPDATE \(table) SET data = $4, user_id = $5, \(deadlines) \(live)")
        // The values as loaded at revision $6 with the request's delta applied ($4, its user $5)
        // while the row is still at that revision: no PL/pgSQL merge, a third of an update's cost.
        // A row changed since (seen again after waiting for its lock) gets the delta ($7, and $8,
        // $9 for the user, as `update` takes them) merged in instead: one round trip either way.
        replaceAtRevision = Statement("replace_at_revision", """
            UPDATE \(table) SET
                data = CASE WHEN xmin::text::int8 = $6 THEN $4 ELSE \(tables.applyDelta)(data, $7) END,
                user_id = CASE WHEN xmin::text::int8 = $6 THEN $5 WHEN $8 THEN $9 ELSE user_id END, \(deadlines) \(live)
            """)
        update = Statement("update", """
            UPDATE \(table) SET data = \(tables.applyDelta)(data, $4),
                user_id = CASE WHEN $5 THEN $6 ELSE user_id END, \(deadlines) \(live)
            """)
        updateApplying = Statement("operate", """
            UPDATE \(table) SET data = \(tables.applyOperations)(\(tables.applyDelta)(data, $4), $7::jsonb),
                user_id = CASE WHEN $5 THEN $6 ELSE user_id END, \(deadlines) \(live)
            """)
        create = Statement("create", """
            INSERT INTO \(table) AS s
                (key_hash, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, user_agent, ip_address, sweep_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $6)
            ON CONFLICT (key_hash) DO UPDATE SET
                data = EXCLUDED.data, user_id = EXCLUDED.user_id, created_at = EXCLUDED.created_at,
                last_seen_at = EXCLUDED.last_seen_at, expires_at = EXCLUDED.expires_at,
                absolute_expires_at = EXCLUDED.absolute_expires_at, user_agent = EXCLUDED.user_agent,
                ip_address = EXCLUDED.ip_address, sweep_at = EXCLUDED.sweep_at
            WHERE s.expires_at <= $10
            RETURNING 1
            """)
        delete = Statement("delete", "DELETE FROM \(table) WHERE key_hash = $1")
    }

    /// The statements of the store running a statement now.
    @TaskLocal static var running: PostgresSessionStatements?

    static var current: PostgresSessionStatements {
        guard let running else { preconditionFailure("a SessionKit statement ran outside PostgresSessionStore.rows(_:on:)") }
        return running
    }
}

extension PostgresSessionStore {
    /// Runs one of the store's statements on `connection` and returns its rows: prepared, or, when
    /// ``PostgresSessionStoreConfiguration/usesPreparedStatements`` is off, as an unnamed statement
    /// with the same SQL and values.
    func rows<Statement: PostgresPreparedStatement>(_ statement: Statement, on connection: PostgresConnection) async throws -> [Statement.Row] {
        try await PostgresSessionStatements.$running.withValue(statements) {
            var rows: [Statement.Row] = []
            if configuration.usesPreparedStatements {
                for try await row in try await connection.execute(statement, logger: logger) {
                    rows.append(row)
                }
            } else {
                let query = PostgresQuery(unsafeSQL: Statement.sql, binds: try statement.makeBindings())
                for try await row in try await connection.query(query, logger: logger) {
                    rows.append(try statement.decodeRow(row))
                }
            }
            return rows
        }
    }
}
