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
            // Read its row: postgres-nio answers a statement that returns rows before the server has
            // run it, so an error while waiting for the lock (a statement timeout) comes with the rows;
            // unread, it was lost and the next statement failed with 25P02 (transaction aborted).
            _ = try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("sessionkit.migrate." + (schema ?? ""))))", logger: logger).collect()
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
                        ip_address text,
                        sweep_at bigint NOT NULL DEFAULT 0
                    ) WITH (fillfactor = 90)
                    """, logger: logger)
                try await connection.query("""
                    CREATE INDEX IF NOT EXISTS \(unescaped: tableName)_user_id ON \(unescaped: tables.sessions) (user_id, created_at)
                    WHERE user_id IS NOT NULL
                    """, logger: logger)
            }
            // The merge function of `apply` (every version: replaced in place, so it always matches this code).
            for statement in applyDeltaFunctions(tables) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            if version == 1 {
                // Version 1 indexed `expires_at` itself, so a write that moved the deadline could not be HOT.
                try await connection.query("""
                    ALTER TABLE \(unescaped: tables.sessions) ADD COLUMN IF NOT EXISTS sweep_at bigint NOT NULL DEFAULT 0
                    """, logger: logger)
                try await connection.query("UPDATE \(unescaped: tables.sessions) SET sweep_at = expires_at", logger: logger)
                try await connection.query("DROP INDEX IF EXISTS \(unescaped: tables.sessions)_expires_at", logger: logger)
                try await connection.query("ALTER TABLE \(unescaped: tables.sessions) SET (fillfactor = 90)", logger: logger)
            }
            if version < 2 {
                // The index cleanup searches; a row inserted without `sweep_at` (0) is looked at by the next cleanup.
                try await connection.query("""
                    CREATE INDEX IF NOT EXISTS \(unescaped: tableName)_sweep_at ON \(unescaped: tables.sessions) (sweep_at)
                    """, logger: logger)
            }
            // Later versions: `if version < 3 { ALTER TABLE ... }`.
            try await connection.query("""
                INSERT INTO \(unescaped: tables.schemaVersions) (component, version) VALUES ('sessions', \(Int32(schemaVersion)))
                ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version
                """, logger: logger)
        }
    }

    /// The functions `apply` and the touching load call: `sessionkit_apply_delta` (see
    /// ``PostgresMergeFunction``), the per-key operations, the permanence test, the touch, and the
    /// varint helpers the last three use.
    static func applyDeltaFunctions(_ tables: Tables) -> [String] {
        let malformed = "RAISE EXCEPTION 'sessionkit: malformed session record' USING ERRCODE = 'data_corrupted'"
        return [
            """
            CREATE OR REPLACE FUNCTION \(tables.readVarint)(data bytea, pos integer, OUT value bigint, OUT next integer)
            LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $body$
            DECLARE
                shift integer := 0;
                b integer;
            BEGIN
                value := 0;
                next := pos;
                LOOP
                    IF next >= length(data) OR shift > 56 THEN \(malformed); END IF;
                    b := get_byte(data, next);
                    next := next + 1;
                    value := value | ((b & 127)::bigint << shift);
                    EXIT WHEN b < 128;
                    shift := shift + 7;
                END LOOP;
            END
            $body$
            """,
            """
            CREATE OR REPLACE FUNCTION \(tables.varint)(value bigint) RETURNS bytea
            LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $body$
            DECLARE
                result bytea := '\\x'::bytea;
            BEGIN
                WHILE value >= 128 LOOP
                    result := result || set_byte('\\x00'::bytea, 0, ((value & 127) | 128)::integer);
                    value := value >> 7;
                END LOOP;
                RETURN result || set_byte('\\x00'::bytea, 0, value::integer);
            END
            $body$
            """,
            """
            CREATE OR REPLACE FUNCTION \(tables.readEntry)(data bytea, pos integer, OUT key bytea, OUT next integer)
            LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $body$
            DECLARE
                v record;
            BEGIN
                v := \(tables.readVarint)(data, pos);
                IF v.next + v.value > length(data) THEN \(malformed); END IF;
                key := substring(data FROM v.next + 1 FOR v.value::integer);
                next := v.next + v.value;
                v := \(tables.readVarint)(data, next);
                IF v.next + v.value > length(data) THEN \(malformed); END IF;
                next := v.next + v.value;
            END
            $body$
            """,
            """
            CREATE OR REPLACE FUNCTION \(tables.readString)(data bytea, pos integer, OUT value bytea, OUT next integer)
            LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $body$
            DECLARE
                v record;
            BEGIN
                v := \(tables.readVarint)(data, pos);
                next := v.next;
                IF v.value > 0 THEN
                    IF next + v.value - 1 > length(data) THEN \(malformed); END IF;
                    value := substring(data FROM next + 1 FOR (v.value - 1)::integer);
                    next := next + v.value - 1;
                END IF;
            END
            $body$
            """,
            PostgresMergeFunction.applyDelta(tables, malformed: malformed),
            applyOperationsFunction(tables, malformed: malformed),
            isPermanentFunction(tables, malformed: malformed),
            touchIfDueFunction(tables),
        ]
    }

    /// The bytes that start a `_permanent` entry in a stored blob (its key's length, 10, then the
    /// key), as a `bytea` literal: a blob without them is surely not permanent, which
    /// `position(… IN data)` tells without leaving C.
    static let permanentEntryBytes = "'\\x0a5f7065726d616e656e74'::bytea"

    /// `sessionkit_touch_if_due(key, stored, now, deadline, due, permanent_deadline,
    /// permanent_due)`: the touch of the touching load, called from its `SELECT` only for a row
    /// that is due (so a read that is not due stays a plain `SELECT`). It moves the idle deadline to
    /// the window's deadline (the permanent one when `stored` is permanent) capped by the absolute
    /// one, `sweep_at` only when that brings the deadline before it (so the update stays HOT, as
    /// `touch` does) and `last_seen_at` to `now`, re-checking under the row's lock that the row is
    /// still live and due; returns the new deadline, or NULL when it changed nothing.
    static func touchIfDueFunction(_ tables: Tables) -> String {
        """
        CREATE OR REPLACE FUNCTION \(tables.touchIfDue)(
            p_key bytea, p_stored bytea, p_now bigint, p_deadline bigint, p_due bigint, p_permanent_deadline bigint, p_permanent_due bigint
        ) RETURNS bigint
        LANGUAGE plpgsql VOLATILE STRICT AS $body$
        DECLARE
            permanent boolean := CASE WHEN position(\(permanentEntryBytes) IN p_stored) = 0 THEN false
                                      ELSE \(tables.isPermanent)(p_stored) END;
            deadline bigint := CASE WHEN permanent THEN p_permanent_deadline ELSE p_deadline END;
            result bigint;
        BEGIN
            UPDATE \(tables.sessions)
            SET expires_at = LEAST(deadline, absolute_expires_at), sweep_at = LEAST(sweep_at, deadline, absolute_expires_at),
                last_seen_at = p_now
            WHERE key_hash = p_key AND expires_at > p_now
                AND last_seen_at <= CASE WHEN permanent THEN p_permanent_due ELSE p_due END
            RETURNING expires_at INTO result;
            RETURN result;
        END
        $body$
        """
    }

    /// `sessionkit_is_permanent(stored)`: whether the stored values mark a permanent session (the
    /// key `_permanent` holds the JSON `true`, JSON whitespace around it allowed), as
    /// `SessionLoadTouch.isPermanent` decides. The touching load calls it only for a session that
    /// may be due, so a read that is not due never walks the blob.
    static func isPermanentFunction(_ tables: Tables, malformed: String) -> String {
        """
        CREATE OR REPLACE FUNCTION \(tables.isPermanent)(stored bytea) RETURNS boolean
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $body$
        DECLARE
            k record;
            v record;
            pos integer;
            entries bigint;
        BEGIN
            IF length(stored) < 1 OR get_byte(stored, 0) <> 1 THEN \(malformed); END IF;
            v := \(tables.readVarint)(stored, 1); entries := v.value; pos := v.next;
            IF entries > length(stored) THEN \(malformed); END IF;
            FOR i IN 1..entries LOOP
                k := \(tables.readVarint)(stored, pos);
                IF k.next + k.value > length(stored) THEN \(malformed); END IF;
                v := \(tables.readVarint)(stored, (k.next + k.value)::integer);
                IF v.next + v.value > length(stored) THEN \(malformed); END IF;
                IF substring(stored FROM k.next + 1 FOR k.value::integer) = '_permanent'::bytea THEN
                    RETURN btrim(substring(stored FROM v.next + 1 FOR v.value::integer), '\\x20090a0d'::bytea) = 'true'::bytea;
                END IF;
                pos := (v.next + v.value)::integer;
            END LOOP;
            RETURN false;
        END
        $body$
        """
    }

    /// `sessionkit_apply_operations(stored, operations)`: the stored blob with atomic per-key
    /// operations (``SessionOperationWire``'s JSON, as `jsonb`) applied in order to the values as
    /// they are in the row now, inside the `UPDATE` and so under the row's lock: concurrent
    /// requests changing one key never lose each other's operations. Each changed entry moves to
    /// the end, as PostgreSQL's `jsonb` text (valid JSON; spacing differs from Swift's).
    static func applyOperationsFunction(_ tables: Tables, malformed: String) -> String {
        """
        CREATE OR REPLACE FUNCTION \(tables.applyOperations)(stored bytea, operations jsonb) RETURNS bytea
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $body$
        DECLARE
            op jsonb;
            v record;
            e record;
            pos integer;
            start integer;
            entries bigint;
            name bytea;
            text_bytes bytea;
            old jsonb;
            cur jsonb;
            new jsonb;
            n numeric;
            kept bytea;
            kept_count bigint;
            result bytea := stored;
        BEGIN
            IF length(stored) < 1 OR get_byte(stored, 0) <> 1 OR jsonb_typeof(operations) <> 'array' THEN
                \(malformed);
            END IF;
            FOR op IN SELECT value FROM jsonb_array_elements(operations) LOOP
                name := convert_to(op->>'k', 'UTF8');
                old := NULL;
                kept := '\\x'::bytea;
                kept_count := 0;
                v := \(tables.readVarint)(result, 1); entries := v.value; pos := v.next;
                IF entries > length(result) THEN \(malformed); END IF;
                FOR i IN 1..entries LOOP
                    start := pos;
                    e := \(tables.readEntry)(result, pos);
                    IF e.key = name THEN
                        v := \(tables.readVarint)(result, start);
                        v := \(tables.readVarint)(result, (v.next + v.value)::integer);
                        text_bytes := substring(result FROM v.next + 1 FOR v.value::integer);
                        BEGIN
                            old := convert_from(text_bytes, 'UTF8')::jsonb;
                        EXCEPTION WHEN others THEN
                            old := NULL;
                        END;
                    ELSE
                        kept := kept || substring(result FROM start + 1 FOR e.next - start);
                        kept_count := kept_count + 1;
                    END IF;
                    pos := e.next;
                END LOOP;
                CASE op->>'o'
                WHEN 'inc' THEN
                    n := CASE WHEN jsonb_typeof(old) = 'number' AND (old #>> '{}')::numeric = trunc((old #>> '{}')::numeric)
                              THEN (old #>> '{}')::numeric ELSE 0 END + (op->>'n')::numeric;
                    new := to_jsonb(LEAST(GREATEST(n, -9223372036854775808), 9223372036854775807)::bigint);
                WHEN 'app' THEN
                    new := (CASE WHEN jsonb_typeof(old) = 'array' THEN old ELSE '[]'::jsonb END) || jsonb_build_array(op->'v');
                WHEN 'ins' THEN
                    cur := CASE WHEN jsonb_typeof(old) = 'array' THEN old ELSE '[]'::jsonb END;
                    IF EXISTS (SELECT 1 FROM jsonb_array_elements(cur) AS x(value) WHERE x.value = op->'v') THEN
                        new := cur;
                    ELSE
                        new := cur || jsonb_build_array(op->'v');
                    END IF;
                WHEN 'rem' THEN
                    cur := CASE WHEN jsonb_typeof(old) = 'array' THEN old ELSE '[]'::jsonb END;
                    new := COALESCE((SELECT jsonb_agg(x.value ORDER BY x.ord) FROM jsonb_array_elements(cur) WITH ORDINALITY AS x(value, ord)
                                     WHERE x.value <> op->'v'), '[]'::jsonb);
                WHEN 'setf' THEN
                    new := (CASE WHEN jsonb_typeof(old) = 'object' THEN old ELSE '{}'::jsonb END) || jsonb_build_object(op->>'f', op->'v');
                WHEN 'remf' THEN
                    new := (CASE WHEN jsonb_typeof(old) = 'object' THEN old ELSE '{}'::jsonb END) - (op->>'f');
                WHEN 'incf' THEN
                    cur := CASE WHEN jsonb_typeof(old) = 'object' THEN old ELSE '{}'::jsonb END;
                    n := CASE WHEN jsonb_typeof(cur->(op->>'f')) = 'number' AND (cur->>(op->>'f'))::numeric = trunc((cur->>(op->>'f'))::numeric)
                              THEN (cur->>(op->>'f'))::numeric ELSE 0 END + (op->>'n')::numeric;
                    IF n > 0 THEN
                        new := cur || jsonb_build_object(op->>'f', LEAST(n, 9223372036854775807)::bigint);
                    ELSE
                        new := cur - (op->>'f');
                    END IF;
                ELSE
                    \(malformed);
                END CASE;
                text_bytes := convert_to(new::text, 'UTF8');
                result := '\\x01'::bytea || \(tables.varint)(kept_count + 1) || kept
                    || \(tables.varint)(length(name)) || name || \(tables.varint)(length(text_bytes)) || text_bytes
                    || substring(result FROM pos + 1);
            END LOOP;
            RETURN result;
        END
        $body$
        """
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

/// The qualified names of the store's tables and functions.
struct Tables: Sendable {
    let sessions: String
    let schemaVersions: String
    /// `sessionkit_apply_delta(stored bytea, delta bytea) → bytea`, and its helpers.
    let applyDelta: String
    /// `sessionkit_apply_operations(stored bytea, operations jsonb) → bytea`.
    let applyOperations: String
    /// `sessionkit_is_permanent(stored bytea) → boolean`.
    let isPermanent: String
    /// `sessionkit_touch_if_due(key, stored, now, deadline, due, permanent_deadline, permanent_due) → bigint`.
    let touchIfDue: String
    let readVarint: String
    let readEntry: String
    let readString: String
    let varint: String

    init(schema: String?) {
        let prefix = schema.map { PostgresSessionStore.quoted($0) + "." } ?? ""
        sessions = prefix + PostgresSessionStore.tableName
        schemaVersions = prefix + "sessionkit_schema"
        applyDelta = prefix + "sessionkit_apply_delta"
        applyOperations = prefix + "sessionkit_apply_operations"
        isPermanent = prefix + "sessionkit_is_permanent"
        touchIfDue = prefix + "sessionkit_touch_if_due"
        readVarint = prefix + "sessionkit_read_varint"
        readEntry = prefix + "sessionkit_read_entry"
        readString = prefix + "sessionkit_read_string"
        varint = prefix + "sessionkit_varint"
    }
}
