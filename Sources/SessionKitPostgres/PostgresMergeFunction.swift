/// The PL/pgSQL of `sessionkit_apply_delta(stored, delta)`: the stored values' blob with a delta
/// merged in, inside PostgreSQL, so that `apply` is one `UPDATE` (one round trip, atomic under the
/// row's lock) as in the SQLite store. Both blobs are ``SessionRecordCoding``'s: the delta holds the
/// values to set and, in its trailer, the keys to remove. Entries that stay are copied as they are,
/// then the new ones follow, then the stored trailer, exactly as `SessionRecordCoding.applying`
/// does; a malformed blob raises SQLSTATE XX001 (`data_corrupted`).
///
/// It runs whenever a write finds its row changed since its load (many requests of one session at
/// once), so it is written for speed: every varint is read inline, a one-byte varint (any length
/// under 128) without a loop, and it calls no other PL/pgSQL function but the one writing the
/// result's count (each call of a PL/pgSQL function returning a record cost more than the loop
/// around it): an `UPDATE` of one row with the merge went from 13-15k to 19-23k per second in
/// pgbench (`Benchmarks/history/round-11.md`).
///
/// ```swift
/// let sql = PostgresMergeFunction.applyDelta(tables, malformed: "RAISE EXCEPTION …")
/// ```
enum PostgresMergeFunction {
    static func applyDelta(_ tables: Tables, malformed: String) -> String {
        /// Reads the varint at `pos` of `data` (`size` bytes long) into `target`, leaving `pos` after it.
        func varint(_ data: String, _ size: String, into target: String) -> String {
            """
            IF pos >= \(size) THEN \(malformed); END IF;
                    b := get_byte(\(data), pos); pos := pos + 1; \(target) := b & 127;
                    IF b >= 128 THEN
                        shift := 7;
                        LOOP
                            IF pos >= \(size) OR shift > 56 THEN \(malformed); END IF;
                            b := get_byte(\(data), pos); pos := pos + 1;
                            \(target) := \(target) | ((b & 127)::bigint << shift);
                            EXIT WHEN b < 128;
                            shift := shift + 7;
                        END LOOP;
                    END IF;
            """
        }
        /// Reads a length-prefixed field of `data`: its length into `n`, checked against `size`.
        func field(_ data: String, _ size: String) -> String {
            """
            \(varint(data, size, into: "n"))
                    IF pos + n > \(size) THEN \(malformed); END IF;
            """
        }
        /// Reads a count of entries into `entries`, checked against `size` (each takes a byte at least).
        func count(_ data: String, _ size: String) -> String {
            """
            \(varint(data, size, into: "entries"))
                    IF entries > \(size) THEN \(malformed); END IF;
            """
        }
        /// Reads the trailer's string at `pos` (0: none; n: n - 1 bytes), checked against `size`.
        func trailerString(_ data: String, _ size: String) -> String {
            """
            \(varint(data, size, into: "n"))
                    IF n > 0 AND pos + n - 1 > \(size) THEN \(malformed); END IF;
            """
        }
        return """
            CREATE OR REPLACE FUNCTION \(tables.applyDelta)(stored bytea, delta bytea) RETURNS bytea
            LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $body$
            DECLARE
                stored_size integer := length(stored);
                delta_size integer := length(delta);
                pos integer;
                start integer;
                b integer;
                shift integer;
                n bigint;
                entries bigint;
                key bytea;
                set_keys bytea[] := '{}';
                set_start integer;
                set_count bigint;
                removed bytea[] := '{}';
                kept bytea := '\\x'::bytea;
                kept_count bigint := 0;
                trailer_start integer;
            BEGIN
                IF delta_size < 1 OR get_byte(delta, 0) <> 1 OR stored_size < 1 OR get_byte(stored, 0) <> 1 THEN
                    \(malformed);
                END IF;
                -- The delta's values (copied whole), then in its trailer the keys to remove.
                pos := 1;
                \(count("delta", "delta_size"))
                set_count := entries;
                set_start := pos;
                FOR i IN 1..entries LOOP
                    \(field("delta", "delta_size"))
                    set_keys := set_keys || substring(delta FROM pos + 1 FOR n::integer);
                    pos := pos + n;
                    \(field("delta", "delta_size"))
                    pos := pos + n;
                END LOOP;
                trailer_start := pos;
                IF pos < delta_size THEN
                    \(count("delta", "delta_size"))
                    FOR i IN 1..entries LOOP
                        \(trailerString("delta", "delta_size"))
                        IF n > 0 THEN
                            removed := removed || substring(delta FROM pos + 1 FOR (n - 1)::integer);
                            pos := pos + n - 1;
                        END IF;
                    END LOOP;
                END IF;
                -- The stored values: those neither set nor removed are kept as they are.
                pos := 1;
                \(count("stored", "stored_size"))
                FOR i IN 1..entries LOOP
                    start := pos;
                    \(field("stored", "stored_size"))
                    key := substring(stored FROM pos + 1 FOR n::integer);
                    pos := pos + n;
                    \(field("stored", "stored_size"))
                    pos := pos + n;
                    IF NOT (key = ANY(set_keys) OR key = ANY(removed)) THEN
                        kept := kept || substring(stored FROM start + 1 FOR pos - start);
                        kept_count := kept_count + 1;
                    END IF;
                END LOOP;
                -- The trailer is kept as it is, but checked.
                start := pos;
                IF pos < stored_size THEN
                    \(count("stored", "stored_size"))
                    FOR i IN 1..entries LOOP
                        \(trailerString("stored", "stored_size"))
                        IF n > 0 THEN pos := pos + n - 1; END IF;
                    END LOOP;
                END IF;
                RETURN '\\x01'::bytea || \(tables.varint)(kept_count + set_count) || kept
                    || substring(delta FROM set_start + 1 FOR trailer_start - set_start)
                    || substring(stored FROM start + 1);
            END
            $body$
            """
    }
}
