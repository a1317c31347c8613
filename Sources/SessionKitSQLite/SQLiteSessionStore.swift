import Logging
import ServiceLifecycle
import SessionKit
import Synchronization
import VaporCSQLite

/// The embedded default for server-side sessions: one SQLite file in WAL mode.
///
/// One table keyed by the storage key (a SHA-256, as a BLOB primary key) holds each session's
/// values as one compact BLOB next to its deadlines and an indexed `user_id`. Cleanup finds expired
/// rows through an indexed `sweep_at`, a deadline that never runs later than `expires_at` and moves
/// only when cleanup passes it or a write brings `expires_at` before it (a trigger), so the
/// common write, which pushes `expires_at` later, rewrites no index entry. Every write
/// is a single SQL statement, so SQLite makes each atomic: a key-level delta is merged into the
/// stored BLOB inside its `UPDATE` by a function the store registers on its writer connection, and
/// an update whose row is gone or expired changes nothing and reports `false` (read from the
/// connection's change count right after it).
///
/// The store calls SQLite's C API directly (the copy sqlite-nio builds) and keeps its statements
/// prepared. Reads run on the caller's thread on a few reader connections (WAL lets them read
/// while a write goes on). Writes go through one writer connection, run by the caller that finds it
/// idle; writes that arrive meanwhile wait, suspended, and are committed together in one
/// transaction (group commit), each with its own result; every write has committed when it
/// returns. Checkpoints, which `fsync`, run on a thread of their own. Another process writing the
/// same file makes a write wait for its lock, on the caller's thread, up to
/// ``SQLiteSessionStoreConfiguration/busyTimeout``.
/// The schema is created or migrated at start-up and versioned with `PRAGMA user_version`.
/// `synchronous = NORMAL`: a power loss may drop the last writes, never corrupt the file.
///
/// The database opens on first use; call ``migrate()`` at start-up to fail early, and run the store
/// as a `Service` to remove expired sessions in batches and close the connections on shutdown.
///
/// ```swift
/// let store = SQLiteSessionStore(path: "/var/lib/app/sessions.sqlite")
/// try await store.migrate()                                        // open, create or migrate
/// let group = ServiceGroup(configuration: .init(services: [app, store], logger: logger))
/// try await group.run()                                            // cleanup; closes on shutdown
/// ```
public final class SQLiteSessionStore: SessionUserIndex, Service {
    private struct OpenConnections: Sendable {
        /// The one connection that writes.
        let writer: SQLiteWriter
        /// The connections that read; `nil` when there are none and the writer reads between writes.
        let readers: SQLiteReaderPool?
        /// Checkpoints the log on its own thread.
        let checkpointer: SQLiteCheckpointer

        /// Waits for the statements in flight, then closes every connection and stops the thread.
        func close() async {
            await readers?.close()
            await writer.close { checkpointer.detach(from: $0) }
            await checkpointer.close()
        }
    }

    private enum State: Sendable {
        case idle
        case opening(Task<OpenConnections, any Error>)
        case closed
    }

    /// The schema version this code writes (`PRAGMA user_version`).
    public static let schemaVersion = 2
    static let table = "sessionkit_sessions"
    static let applyFunctionName = "sessionkit_apply_delta"

    /// The settings the store was made with.
    public let configuration: SQLiteSessionStoreConfiguration
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    private let state = Mutex<State>(.idle)

    /// A store on the database file at `configuration.path`; nothing is opened until first use or ``migrate()``.
    public init(
        configuration: SQLiteSessionStoreConfiguration,
        clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        logger: Logger = Logger(label: "SessionKit.SQLiteSessionStore")
    ) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// A store on the database file at `path` with default settings.
    public convenience init(path: String, clock: @escaping @Sendable () -> Int64 = SessionClock.system) {
        self.init(configuration: .init(path: path), clock: clock)
    }

    deinit {
        // A store dropped without close(): close its connections and stop its thread in the background.
        if case .opening(let task) = state.withLock({ $0 }) {
            Task {
                guard let connections = try? await task.value else { return }
                await connections.close()
            }
        }
    }

    // MARK: Lifecycle

    /// Opens the database and creates or migrates the schema (idempotent). Throws
    /// ``/SessionKit/SessionStoreError/Code/unavailable`` when the file cannot be opened or was written by a
    /// newer schema version. A ``SQLiteSessionStoreConfiguration/readOnly`` store is only opened
    /// and its schema version checked.
    public func migrate() async throws {
        _ = try await connections()
    }

    /// Closes every connection; later calls throw ``/SessionKit/SessionStoreError/Code/unavailable``.
    public func close() async throws {
        let previous = state.withLock { state -> State in
            defer { state = .closed }
            return state
        }
        guard case .opening(let task) = previous, let connections = try? await task.value else { return }
        await connections.close()
    }

    /// Opens the database, then removes expired sessions every
    /// ``SQLiteSessionStoreConfiguration/cleanupInterval`` until graceful shutdown or
    /// cancellation, and closes the connections.
    public func run() async throws {
        try await migrate()
        try await SessionStoreCleanupService(store: self, interval: configuration.cleanupInterval, logger: logger).run()
        try await close()
    }

    private func connections() async throws -> OpenConnections {
        let task: Task<OpenConnections, any Error>? = state.withLock { state in
            switch state {
            case .closed: return nil
            case .opening(let task): return task
            case .idle:
                let configuration = self.configuration
                let task = Task { try await Self.open(configuration) }
                state = .opening(task)
                return task
            }
        }
        guard let task else { throw SessionStoreError(.unavailable, "the SQLite session store is closed") }
        do {
            return try await task.value
        } catch {
            // Let the next call try again (the file system may recover).
            state.withLock { state in
                if case .opening(let current) = state, current == task { state = .idle }
            }
            if let error = error as? SessionStoreError { throw error }
            throw SessionStoreError(.unavailable, "cannot open the SQLite session store: \(error)")
        }
    }

    /// Opens the writer connection (WAL, schema, the merge function, checkpoints on their own
    /// thread), then the readers; on the checkpointer's thread, since opening touches the file system.
    private static func open(_ configuration: SQLiteSessionStoreConfiguration) async throws -> OpenConnections {
        let busyMilliseconds = Int(configuration.busyTimeout.components.seconds * 1000
            + configuration.busyTimeout.components.attoseconds / 1_000_000_000_000_000)
        let path = configuration.path
        let readerCount = max(0, configuration.readerCount)
        let readOnly = configuration.readOnly
        let checkpointer = SQLiteCheckpointer()
        do {
            let (writer, readers) = try await checkpointer.run { () throws -> (SQLiteRawConnection, [SQLiteRawConnection]) in
                var opened: [SQLiteRawConnection] = []
                do {
                    let writer = try SQLiteRawConnection(path: path, readOnly: readOnly)
                    opened.append(writer)
                    writer.setBusyTimeout(milliseconds: busyMilliseconds)
                    if readOnly {
                        try writer.execute("PRAGMA query_only = 1")
                        try checkReadableSchema(writer)
                    } else {
                        try writer.execute("PRAGMA journal_mode = WAL")
                        try writer.execute("PRAGMA synchronous = NORMAL")
                        try migrateSchema(writer)
                    }
                    try writer.register(function: applyFunctionName, argumentCount: 2, applyDelta)
                    try writer.register(function: applyFunctionName, argumentCount: 3, applyDelta)
                    for _ in 0..<readerCount {
                        let reader = try SQLiteRawConnection(path: path, readOnly: readOnly)
                        opened.append(reader)
                        reader.setBusyTimeout(milliseconds: busyMilliseconds)
                        try reader.execute("PRAGMA query_only = 1")
                    }
                    return (writer, Array(opened.dropFirst()))
                } catch {
                    for connection in opened { connection.close() }
                    throw error
                }
            }
            let writes = SQLiteWriter(writer)
            checkpointer.attach(to: writes)
            return OpenConnections(
                writer: writes,
                readers: readers.isEmpty ? nil : SQLiteReaderPool(readers),
                checkpointer: checkpointer
            )
        } catch {
            await checkpointer.close()
            throw error
        }
    }

    /// For a read-only store: throws unless the database holds a schema this code reads (the
    /// columns reads use are in every version so far). Nothing is created or migrated.
    private static func checkReadableSchema(_ connection: SQLiteRawConnection) throws {
        let version = try connection.withStatement("PRAGMA user_version") { try $0.step() ? $0.int64(0) : nil } ?? 0
        guard version >= 1 else {
            throw SessionStoreError(.unavailable, "the file holds no SessionKit session table (schema version \(version)); a read-only store creates nothing")
        }
        guard version <= schemaVersion else {
            throw SessionStoreError(.unavailable, "the session database has schema version \(version), newer than this SessionKit's \(schemaVersion)")
        }
    }

    /// Creates the schema in an empty database or migrates an older one, in one transaction.
    private static func migrateSchema(_ connection: SQLiteRawConnection) throws {
        try connection.execute("BEGIN IMMEDIATE")
        do {
            let version = try connection.withStatement("PRAGMA user_version") { try $0.step() ? $0.int64(0) : nil } ?? 0
            if version > schemaVersion {
                throw SessionStoreError(.unavailable, "the session database has schema version \(version), newer than this SessionKit's \(schemaVersion)")
            }
            if version < 1 {
                try connection.execute("""
                    CREATE TABLE \(table) (
                        key_hash BLOB NOT NULL PRIMARY KEY,
                        data BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        last_seen_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        absolute_expires_at INTEGER NOT NULL,
                        user_id TEXT,
                        user_agent TEXT,
                        ip_address TEXT,
                        sweep_at INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX \(table)_user_id ON \(table) (user_id, created_at) WHERE user_id IS NOT NULL;
                    """)
            } else if version < 2 {
                // Version 1 indexed `expires_at` itself, which every write moves.
                try connection.execute("""
                    ALTER TABLE \(table) ADD COLUMN sweep_at INTEGER NOT NULL DEFAULT 0;
                    UPDATE \(table) SET sweep_at = expires_at;
                    DROP INDEX IF EXISTS \(table)_expires_at;
                    """)
            }
            if version < 2 {
                try connection.execute(sweepSchema)
            }
            // Later versions: `if version < 3 { ALTER TABLE ... }`.
            try connection.execute("PRAGMA user_version = \(schemaVersion)")
            try connection.execute("COMMIT")
        } catch {
            if connection.isInTransaction { try? connection.execute("ROLLBACK") }
            throw error
        }
    }

    /// The index cleanup searches, and the trigger that keeps `sweep_at <= expires_at`: it fires
    /// only when a write brings `expires_at` before `sweep_at` (a shorter lifetime), so the usual
    /// write, which moves `expires_at` later, leaves the index alone. A row inserted without
    /// `sweep_at` (0) is looked at by the next cleanup.
    private static let sweepSchema = """
        CREATE INDEX \(table)_sweep_at ON \(table) (sweep_at);
        CREATE TRIGGER \(table)_sweep_at_follows_expiry AFTER UPDATE OF expires_at ON \(table)
        WHEN NEW.expires_at < NEW.sweep_at
        BEGIN
            UPDATE \(table) SET sweep_at = NEW.expires_at WHERE rowid = NEW.rowid;
        END;
        """

    // MARK: Statements

    private static let loadSQL = """
        SELECT data, created_at, last_seen_at, expires_at, absolute_expires_at, user_agent, ip_address
        FROM \(table) WHERE key_hash = ?1 AND expires_at > ?2
        """
    private static let createSQL = """
        INSERT INTO \(table) (key_hash, data, created_at, last_seen_at, expires_at, absolute_expires_at, user_id, user_agent, ip_address, sweep_at)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?5)
        ON CONFLICT (key_hash) DO UPDATE SET
            data = excluded.data, created_at = excluded.created_at, last_seen_at = excluded.last_seen_at,
            expires_at = excluded.expires_at, absolute_expires_at = excluded.absolute_expires_at,
            user_id = excluded.user_id, user_agent = excluded.user_agent, ip_address = excluded.ip_address,
            sweep_at = excluded.sweep_at
        WHERE \(table).expires_at <= ?10
        """
    /// An update of a live session: `?1` key, `?2` new deadline, `?3` now, then the assignments' parameters.
    private static func updateSQL(_ assignments: String) -> String {
        """
        UPDATE \(table) SET expires_at = min(?2, absolute_expires_at), last_seen_at = ?3\(assignments)
        WHERE key_hash = ?1 AND expires_at > ?3
        """
    }
    private static let touchSQL = updateSQL("")
    private static let replaceSQL = updateSQL(", data = ?4, user_id = ?5")
    private static let mergeSQL = updateSQL(", data = \(applyFunctionName)(data, ?4)")
    private static let mergeSettingUserSQL = updateSQL(", data = \(applyFunctionName)(data, ?4), user_id = ?5")
    private static let mergeClearingUserSQL = updateSQL(", data = \(applyFunctionName)(data, ?4), user_id = NULL")
    private static let operateSQL = updateSQL(", data = \(applyFunctionName)(data, ?4, ?6)")
    private static let operateSettingUserSQL = updateSQL(", data = \(applyFunctionName)(data, ?4, ?6), user_id = ?5")
    private static let operateClearingUserSQL = updateSQL(", data = \(applyFunctionName)(data, ?4, ?6), user_id = NULL")
    private static let deleteSQL = "DELETE FROM \(table) WHERE key_hash = ?1"
    private static let deleteExpiredKeySQL = "DELETE FROM \(table) WHERE key_hash = ?1 AND expires_at <= ?2"
    private static let renameSQL = "UPDATE \(table) SET key_hash = ?2 WHERE key_hash = ?1 AND expires_at > ?3"
    /// Live sessions whose sweep time has passed (their deadline moved later since): the next
    /// look is at their deadline.
    private static let resweepSQL = """
        UPDATE \(table) SET sweep_at = expires_at
        WHERE rowid IN (SELECT rowid FROM \(table) WHERE sweep_at <= ?1 AND expires_at > ?1 LIMIT ?2)
        """
    private static let removeExpiredSQL = """
        DELETE FROM \(table) WHERE rowid IN (SELECT rowid FROM \(table) WHERE sweep_at <= ?1 AND expires_at <= ?1 LIMIT ?2)
        """
    private static let userSessionsSQL = """
        SELECT key_hash, created_at, last_seen_at, expires_at, absolute_expires_at, user_agent, ip_address
        FROM \(table) WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at, key_hash
        """
    private static let revokeSQL = """
        DELETE FROM \(table) WHERE user_id = ?1 AND (?2 IS NULL OR key_hash <> ?2) RETURNING expires_at
        """

    // MARK: SessionStore

    public func load(_ key: SessionStorageKey) async throws -> StoredSession? {
        let now = clock()
        return try await read { connection in
            try connection.withStatement(Self.loadSQL) { statement in
                try key.withUnsafeBytes { try statement.bind(1, blob: $0) }
                try statement.bind(2, now)
                guard try statement.step() else { return nil }
                guard let values = try statement.withBlob(0, { try SessionRecordCoding.decode($0).values }) else { throw Self.corrupt }
                return StoredSession(
                    values: values,
                    createdAt: try Self.integer(statement, 1),
                    lastSeenAt: try Self.integer(statement, 2),
                    expiresAt: try Self.integer(statement, 3),
                    absoluteExpiresAt: try Self.integer(statement, 4),
                    userAgent: statement.text(5),
                    ipAddress: statement.text(6)
                )
            }
        }
    }

    public func create(_ key: SessionStorageKey, _ session: StoredSession) async throws {
        let now = clock()
        let data = SessionRecordCoding.encode(session.values)
        let created = try await write { connection in
            try connection.withStatement(Self.createSQL) { statement in
                try key.withUnsafeBytes { try statement.bind(1, blob: $0) }
                try statement.bind(2, blob: data)
                try statement.bind(3, session.createdAt)
                try statement.bind(4, session.lastSeenAt)
                try statement.bind(5, min(session.expiresAt, session.absoluteExpiresAt))
                try statement.bind(6, session.absoluteExpiresAt)
                try statement.bind(7, session.userID)
                try statement.bind(8, session.userAgent)
                try statement.bind(9, session.ipAddress)
                try statement.bind(10, now)
                try statement.run()
            }
            return connection.changes > 0
        }
        if !created { throw SessionStoreError(.alreadyExists, "a live session already has the key \(key)") }
    }

    public func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        let now = clock()
        let sql: String
        var data: [UInt8]?
        // `?5`, the new `user_id` (NULL when the session has none), in the statements that set it.
        var userID: String??
        var operations: [UInt8]?
        switch delta {
        case .replaceAll(let values):
            sql = Self.replaceSQL
            data = SessionRecordCoding.encode(values)
            userID = .some(StoredSession.userID(from: values[StoredSession.userIDKey]))
        case .update(let set, let remove) where set.isEmpty && remove.isEmpty:
            sql = Self.touchSQL
        case .update(let set, let remove), .updateApplying(let set, let remove, operations: _):
            if case .updateApplying(_, _, let list) = delta {
                try SessionOperationWire.check(list)
                operations = SessionOperationWire.encode(list)
            }
            let operates = operations != nil
            data = SessionRecordCoding.encode(set, trailer: remove.map { $0 })
            if let value = set[StoredSession.userIDKey] {
                sql = operates ? Self.operateSettingUserSQL : Self.mergeSettingUserSQL
                userID = .some(StoredSession.userID(from: value))
            } else if remove.contains(StoredSession.userIDKey) {
                sql = operates ? Self.operateClearingUserSQL : Self.mergeClearingUserSQL
            } else {
                sql = operates ? Self.operateSQL : Self.mergeSQL
            }
        }
        return try await write { [data, userID, operations] connection in
            try connection.withStatement(sql) { statement in
                try key.withUnsafeBytes { try statement.bind(1, blob: $0) }
                try statement.bind(2, expiresAt)
                try statement.bind(3, now)
                if let data { try statement.bind(4, blob: data) }
                if let userID { try statement.bind(5, userID) }
                if let operations { try statement.bind(6, blob: operations) }
                try statement.run()
            }
            return connection.changes > 0
        }
    }

    public func touch(_ key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        let now = clock()
        return try await write { connection in
            try connection.withStatement(Self.touchSQL) { statement in
                try key.withUnsafeBytes { try statement.bind(1, blob: $0) }
                try statement.bind(2, expiresAt)
                try statement.bind(3, now)
                try statement.run()
            }
            return connection.changes > 0
        }
    }

    public func delete(_ key: SessionStorageKey) async throws {
        try await write { connection in
            try connection.withStatement(Self.deleteSQL) { statement in
                try key.withUnsafeBytes { try statement.bind(1, blob: $0) }
                try statement.run()
            }
        }
    }

    public func rename(_ old: SessionStorageKey, to new: SessionStorageKey) async throws -> Bool {
        let now = clock()
        // An expired session under the new key may be replaced; a live one makes the UPDATE fail.
        return try await write(atomic: true) { connection in
            try connection.withStatement(Self.deleteExpiredKeySQL) { statement in
                try new.withUnsafeBytes { try statement.bind(1, blob: $0) }
                try statement.bind(2, now)
                try statement.run()
            }
            do {
                try connection.withStatement(Self.renameSQL) { statement in
                    try old.withUnsafeBytes { try statement.bind(1, blob: $0) }
                    try new.withUnsafeBytes { try statement.bind(2, blob: $0) }
                    try statement.bind(3, now)
                    try statement.run()
                }
            } catch let error as SQLiteCallError where error.isConstraintViolation {
                throw SessionStoreError(.alreadyExists, "a live session already has the key \(new)")
            }
            return connection.changes > 0
        }
    }

    public func removeExpired() async throws -> Int {
        let now = clock()
        let batch = Int64(max(1, configuration.cleanupBatchSize))
        // Both passes visit only rows whose sweep time has passed: first the live ones among them
        // get their deadline as the next sweep time, then the expired ones are deleted.
        _ = try await runInBatches(Self.resweepSQL, now: now, batch: batch)
        return try await runInBatches(Self.removeExpiredSQL, now: now, batch: batch)
    }

    /// Runs `sql` (`?1` now, `?2` the batch size) one write at a time until a batch changes fewer
    /// rows than `batch`; returns the rows changed.
    private func runInBatches(_ sql: String, now: Int64, batch: Int64) async throws -> Int {
        var changed = 0
        while true {
            let count = try await write { connection in
                try connection.withStatement(sql) { statement in
                    try statement.bind(1, now)
                    try statement.bind(2, batch)
                    try statement.run()
                }
                return connection.changes
            }
            changed += count
            if count < batch { return changed }
            await Task.yield()
        }
    }

    // MARK: SessionUserIndex

    public func sessions(ofUser userID: String) async throws -> [UserSessionInfo] {
        let now = clock()
        return try await read { connection in
            try connection.withStatement(Self.userSessionsSQL) { statement in
                try statement.bind(1, userID)
                try statement.bind(2, now)
                var sessions: [UserSessionInfo] = []
                while try statement.step() {
                    guard let key = statement.withBlob(0, { SessionStorageKey(bytes: $0) }) ?? nil else { throw Self.corrupt }
                    sessions.append(UserSessionInfo(
                        key: key,
                        createdAt: try Self.integer(statement, 1),
                        lastSeenAt: try Self.integer(statement, 2),
                        expiresAt: try Self.integer(statement, 3),
                        absoluteExpiresAt: try Self.integer(statement, 4),
                        userAgent: statement.text(5),
                        ipAddress: statement.text(6)
                    ))
                }
                return sessions
            }
        }
    }

    public func revokeSessions(ofUser userID: String, except: SessionStorageKey?) async throws -> Int {
        let now = clock()
        return try await write { connection in
            try connection.withStatement(Self.revokeSQL) { statement in
                try statement.bind(1, userID)
                if let except {
                    try except.withUnsafeBytes { try statement.bind(2, blob: $0) }
                } else {
                    try statement.bindNull(2)
                }
                // Every row is deleted; the count is of the sessions that were still live.
                var live = 0
                while try statement.step() {
                    if let expiresAt = statement.int64(0), expiresAt > now { live += 1 }
                }
                return live
            }
        }
    }

    // MARK: Helpers

    /// The store's clock.
    func now() -> Int64 { clock() }

    /// Runs `body` on a reader connection, on the calling thread (on the writer's thread, between
    /// write batches, when the store has no readers). For extensions in other files.
    func read<Value: Sendable>(_ body: @escaping @Sendable (SQLiteRawConnection) throws -> Value) async throws -> Value {
        let connections = try await connections()
        do {
            if let readers = connections.readers {
                return try await readers.read(body)
            }
            return try await connections.writer.perform(body)
        } catch {
            throw Self.wrap(error)
        }
    }

    /// Runs `body` on the writer connection, alone or with other queued writes in one
    /// transaction, and returns its result once committed; an `atomic` body commits all or nothing.
    private func write<Value: Sendable>(atomic: Bool = false, _ body: @escaping @Sendable (SQLiteRawConnection) throws -> Value) async throws -> Value {
        let connections = try await connections()
        do {
            return try await connections.writer.perform(atomic: atomic, body)
        } catch {
            throw Self.wrap(error)
        }
    }

    private static func wrap(_ error: any Error) -> any Error {
        if error is SessionStoreError || error is CancellationError { return error }
        if let error = error as? SQLiteCallError, error.message.hasPrefix(corruptRecordMessage) {
            return SessionStoreError(.corruptRecord, "SQLite session store: \(error)")
        }
        return SessionStoreError(.unavailable, "SQLite session store: \(error)")
    }

    private static var corrupt: SessionStoreError {
        SessionStoreError(.corruptRecord, "a stored session row could not be read")
    }

    private static func integer(_ statement: SQLitePreparedStatement, _ column: Int32) throws -> Int64 {
        guard let value = statement.int64(column) else { throw corrupt }
        return value
    }
}
