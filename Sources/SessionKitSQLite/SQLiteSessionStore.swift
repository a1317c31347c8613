import Logging
import NIOPosix
import SQLiteNIO
import ServiceLifecycle
import SessionKit
import Synchronization

/// The embedded default for server-side sessions: one SQLite file in WAL mode.
///
/// One table keyed by the storage key (a SHA-256, as a BLOB primary key) holds each session's
/// values as one compact BLOB next to indexed `expires_at` and `user_id` columns. Every write
/// is a single SQL statement, so SQLite makes each atomic: a key-level delta is merged into the
/// stored BLOB inside its `UPDATE` by a function the store registers on its writer connection, and
/// an update whose row is gone or expired changes nothing and reports `false` (read from
/// `changes()` right after it on the same connection). Writes go through one
/// writer connection, reads through a few reader connections (WAL lets them read while it writes).
/// Writes that arrive while the writer is busy are committed together in one transaction (group
/// commit), each with its own result; every write has committed when it returns.
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
        let writer: SQLiteConnectionPool
        /// Writes, batched into transactions on the writer connection while it is busy.
        let writes: SQLiteWriteQueue
        /// A thread for each connection, which runs its statements one after the other, in the
        /// order they are sent.
        let threads: [NIOThreadPool]
        /// The connections that read (the writer when there are none).
        let readers: SQLiteConnectionPool

        var all: [SQLiteConnection] {
            writer === readers ? writer.connections : writer.connections + readers.connections
        }

        /// Waits for the statements in flight, then closes every connection.
        func close() async throws {
            await writes.close()
            var connections = await writer.drain()
            if writer !== readers { connections += await readers.drain() }
            for connection in connections { try await connection.close() }
            for thread in threads { try await thread.shutdownGracefully() }
        }
    }

    private enum State: Sendable {
        case idle
        case opening(Task<OpenConnections, any Error>)
        case closed
    }

    /// The schema version this code writes (`PRAGMA user_version`).
    public static let schemaVersion = 1
    static let table = "sessionkit_sessions"
    static let applyFunctionName = "sessionkit_apply_delta"

    /// The settings the store was made with.
    public let configuration: SQLiteSessionStoreConfiguration
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    private let state = Mutex<State>(.idle)
    /// Spreads reads over the reader connections.
    private let nextReader = Atomic<Int>(0)

    /// A store on the database file at `configuration.path`; nothing is opened until first use or ``migrate()``.
    public init(
        configuration: SQLiteSessionStoreConfiguration,
        clock: @escaping @Sendable () -> Int64 = systemSessionClock,
        logger: Logger = Logger(label: "SessionKit.SQLiteSessionStore")
    ) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// A store on the database file at `path` with default settings.
    public convenience init(path: String, clock: @escaping @Sendable () -> Int64 = systemSessionClock) {
        self.init(configuration: .init(path: path), clock: clock)
    }

    deinit {
        // A store dropped without close(): close its connections in the background (sqlite-nio
        // requires every connection to be closed).
        if case .opening(let task) = state.withLock({ $0 }) {
            Task {
                guard let connections = try? await task.value else { return }
                for connection in connections.all { try? await connection.close() }
                for thread in connections.threads { try? await thread.shutdownGracefully() }
            }
        }
    }

    // MARK: Lifecycle

    /// Opens the database and creates or migrates the schema (idempotent). Throws
    /// ``SessionStoreError/Code/unavailable`` when the file cannot be opened or was written by a
    /// newer schema version.
    public func migrate() async throws {
        _ = try await connections()
    }

    /// Closes every connection; later calls throw ``SessionStoreError/Code/unavailable``.
    public func close() async throws {
        let previous = state.withLock { state -> State in
            defer { state = .closed }
            return state
        }
        guard case .opening(let task) = previous, let connections = try? await task.value else { return }
        try await connections.close()
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
                let logger = self.logger
                let task = Task { try await Self.open(configuration, logger: logger) }
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

    private static func open(_ configuration: SQLiteSessionStoreConfiguration, logger: Logger) async throws -> OpenConnections {
        let busyMilliseconds = configuration.busyTimeout.components.seconds * 1000
            + configuration.busyTimeout.components.attoseconds / 1_000_000_000_000_000
        // A thread for each connection: it runs statements one at a time in the order they are sent,
        // which lets the write queue send a whole transaction at once, and readers take reads without
        // a connection checked out (each read still runs alone, so it sees every committed write).
        var threads: [NIOThreadPool] = []
        func open() async throws -> SQLiteConnection {
            let thread = NIOThreadPool(numberOfThreads: 1)
            thread.start()
            threads.append(thread)
            return try await SQLiteConnection.open(
                storage: .file(path: configuration.path), threadPool: thread, logger: logger,
                on: MultiThreadedEventLoopGroup.singleton.any()
            )
        }
        let writer: SQLiteConnection
        do {
            writer = try await open()
        } catch {
            for thread in threads { try? await thread.shutdownGracefully() }
            throw error
        }
        var readers: [SQLiteConnection] = []
        do {
            // busy_timeout replaces sqlite-nio's default busy handler, which retries without sleeping.
            _ = try await writer.query("PRAGMA busy_timeout = \(busyMilliseconds)")
            _ = try await writer.query("PRAGMA journal_mode = WAL")
            _ = try await writer.query("PRAGMA synchronous = NORMAL")
            try await migrateSchema(writer)
            try await writer.install(customFunction: applyFunction)
            for _ in 0..<max(0, configuration.readerCount) {
                let reader = try await open()
                readers.append(reader)
                _ = try await reader.query("PRAGMA busy_timeout = \(busyMilliseconds)")
                _ = try await reader.query("PRAGMA query_only = 1")
            }
        } catch {
            for connection in [writer] + readers { try? await connection.close() }
            for thread in threads { try? await thread.shutdownGracefully() }
            throw error
        }
        let writerPool = SQLiteConnectionPool([writer])
        return OpenConnections(
            writer: writerPool,
            writes: SQLiteWriteQueue(writerPool),
            threads: threads,
            readers: readers.isEmpty ? writerPool : SQLiteConnectionPool(readers)
        )
    }

    /// Creates the schema in an empty database or migrates an older one, in one transaction.
    private static func migrateSchema(_ connection: SQLiteConnection) async throws {
        _ = try await connection.query("BEGIN IMMEDIATE")
        do {
            let version = try await connection.query("PRAGMA user_version").first?.columns.first?.data.integer ?? 0
            if version > schemaVersion {
                throw SessionStoreError(.unavailable, "the session database has schema version \(version), newer than this SessionKit's \(schemaVersion)")
            }
            if version < 1 {
                _ = try await connection.query("""
                    CREATE TABLE \(table) (
                        key_hash BLOB NOT NULL PRIMARY KEY,
                        data BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        last_seen_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        absolute_expires_at INTEGER NOT NULL,
                        user_id TEXT,
                        user_agent TEXT,
                        ip_address TEXT
                    )
                    """)
                _ = try await connection.query("CREATE INDEX \(table)_expires_at ON \(table) (expires_at)")
                _ = try await connection.query("CREATE INDEX \(table)_user_id ON \(table) (user_id, created_at) WHERE user_id IS NOT NULL")
            }
            // Later versions: `if version < 2 { ALTER TABLE ... }`.
            _ = try await connection.query("PRAGMA user_version = \(schemaVersion)")
            _ = try await connection.query("COMMIT")
        } catch {
            _ = try? await connection.query("ROLLBACK")
            throw error
        }
    }

    /// `sessionkit_apply_delta(data, delta)`: the stored values with a delta (values to set, and in
    /// the trailer the keys to remove) merged in.
    private static let applyFunction = SQLiteCustomFunction(applyFunctionName, argumentCount: 2, pure: true) { arguments in
        guard let data = arguments[0].blob, let delta = arguments[1].blob else {
            throw SessionStoreError(.corruptRecord, "sessionkit_apply_delta needs two BLOBs")
        }
        // The stored blob is rewritten from its bytes (entries that stay are copied as they are).
        let (set, trailer) = try SessionRecordCoding.decode(delta.readableBytesView)
        let update = SessionDelta.update(set: set, remove: Set(trailer.compactMap { $0 }))
        return ByteBuffer(bytes: try SessionRecordCoding.applying(update, toBlob: Array(data.readableBytesView)))
    }

    // MARK: SessionStore

    public func load(_ key: SessionStorageKey) async throws -> StoredSession? {
        let connections = try await connections()
        let rows = try await read(connections, """
            SELECT data, created_at, last_seen_at, expires_at, absolute_expires_at, user_agent, ip_address
            FROM \(Self.table) WHERE key_hash = ?1 AND expires_at > ?2
            """, [Self.blob(key), .integer(Int(clock()))])
        guard let row = rows.first else { return nil }
        guard let data = row.column("data")?.blob else { throw Self.corrupt }
        return StoredSession(
            values: try SessionRecordCoding.decode(data.readableBytesView).values,
            createdAt: try Self.integer(row, "created_at"),
            lastSeenAt: try Self.integer(row, "last_seen_at"),
            expiresAt: try Self.integer(row, "expires_at"),
            absoluteExpiresAt: try Self.integer(row, "absolute_expires_at"),
            userAgent: row.column("user_agent")?.string,
            ipAddress: row.column("ip_address")?.string
        )
    }

    public func create(_ key: SessionStorageKey, _ session: StoredSession) async throws {
        let created = try await writeChangingRows("""
            INSERT INTO \(Self.table) (key_hash, data, created_at, last_seen_at, expires_at, absolute_expires_at, user_id, user_agent, ip_address)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            ON CONFLICT (key_hash) DO UPDATE SET
                data = excluded.data, created_at = excluded.created_at, last_seen_at = excluded.last_seen_at,
                expires_at = excluded.expires_at, absolute_expires_at = excluded.absolute_expires_at,
                user_id = excluded.user_id, user_agent = excluded.user_agent, ip_address = excluded.ip_address
            WHERE \(Self.table).expires_at <= ?10
            """, [
                Self.blob(key),
                .blob(ByteBuffer(bytes: SessionRecordCoding.encode(session.values))),
                .integer(Int(session.createdAt)),
                .integer(Int(session.lastSeenAt)),
                .integer(Int(min(session.expiresAt, session.absoluteExpiresAt))),
                .integer(Int(session.absoluteExpiresAt)),
                Self.text(session.userID),
                Self.text(session.userAgent),
                Self.text(session.ipAddress),
                .integer(Int(clock())),
            ])
        if !created { throw SessionStoreError(.alreadyExists, "a live session already has the key \(key)") }
    }

    public func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        let now = Int(clock())
        var assignments = "expires_at = min(?2, absolute_expires_at), last_seen_at = ?3"
        var binds: [SQLiteData] = [Self.blob(key), .integer(Int(expiresAt)), .integer(now)]
        switch delta {
        case .replaceAll(let values):
            assignments += ", data = ?4, user_id = ?5"
            binds.append(.blob(ByteBuffer(bytes: SessionRecordCoding.encode(values))))
            binds.append(Self.text(StoredSession.userID(from: values[StoredSession.userIDKey])))
        case .update(let set, let remove):
            if !set.isEmpty || !remove.isEmpty {
                assignments += ", data = \(Self.applyFunctionName)(data, ?4)"
                binds.append(.blob(ByteBuffer(bytes: SessionRecordCoding.encode(set, trailer: remove.map { $0 }))))
            }
            if let value = set[StoredSession.userIDKey] {
                assignments += ", user_id = ?\(binds.count + 1)"
                binds.append(Self.text(StoredSession.userID(from: value)))
            } else if remove.contains(StoredSession.userIDKey) {
                assignments += ", user_id = NULL"
            }
        }
        return try await writeChangingRows("""
            UPDATE \(Self.table) SET \(assignments) WHERE key_hash = ?1 AND expires_at > ?3
            """, binds)
    }

    public func touch(_ key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        try await writeChangingRows("""
            UPDATE \(Self.table) SET expires_at = min(?2, absolute_expires_at), last_seen_at = ?3
            WHERE key_hash = ?1 AND expires_at > ?3
            """, [Self.blob(key), .integer(Int(expiresAt)), .integer(Int(clock()))])
    }

    public func delete(_ key: SessionStorageKey) async throws {
        try await write("DELETE FROM \(Self.table) WHERE key_hash = ?1", [Self.blob(key)])
    }

    public func rename(_ old: SessionStorageKey, to new: SessionStorageKey) async throws -> Bool {
        let connections = try await connections()
        let now = SQLiteData.integer(Int(clock()))
        do {
            // An expired session under the new key may be replaced; a live one makes the UPDATE fail.
            let rows = try await connections.writes.submit([
                .init("DELETE FROM \(Self.table) WHERE key_hash = ?1 AND expires_at <= ?2", [Self.blob(new), now]),
                .init("UPDATE \(Self.table) SET key_hash = ?2 WHERE key_hash = ?1 AND expires_at > ?3", [Self.blob(old), Self.blob(new), now]),
                Self.changes,
            ])
            return (rows.first?.column("changed")?.integer ?? 0) > 0
        } catch let error as SQLiteError where Self.isUniqueViolation(error) {
            throw SessionStoreError(.alreadyExists, "a live session already has the key \(new)")
        } catch {
            throw Self.wrap(error)
        }
    }

    public func removeExpired() async throws -> Int {
        let connections = try await connections()
        let now = SQLiteData.integer(Int(clock()))
        let batch = max(1, configuration.cleanupBatchSize)
        var removed = 0
        while true {
            let count = try await write(connections, """
                DELETE FROM \(Self.table) WHERE rowid IN (SELECT rowid FROM \(Self.table) WHERE expires_at <= ?1 LIMIT ?2) RETURNING 1
                """, [now, .integer(batch)]) { $0.count }
            removed += count
            if count < batch { return removed }
            await Task.yield()
        }
    }

    // MARK: SessionUserIndex

    public func sessions(ofUser userID: String) async throws -> [UserSessionInfo] {
        let connections = try await connections()
        let rows = try await read(connections, """
            SELECT key_hash, created_at, last_seen_at, expires_at, absolute_expires_at, user_agent, ip_address
            FROM \(Self.table) WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at, key_hash
            """, [.text(userID), .integer(Int(clock()))])
        return try rows.map { row in
            guard let keyBytes = row.column("key_hash")?.blob, let key = SessionStorageKey(bytes: keyBytes.readableBytesView) else {
                throw Self.corrupt
            }
            return UserSessionInfo(
                key: key,
                createdAt: try Self.integer(row, "created_at"),
                lastSeenAt: try Self.integer(row, "last_seen_at"),
                expiresAt: try Self.integer(row, "expires_at"),
                absoluteExpiresAt: try Self.integer(row, "absolute_expires_at"),
                userAgent: row.column("user_agent")?.string,
                ipAddress: row.column("ip_address")?.string
            )
        }
    }

    public func revokeSessions(ofUser userID: String, except: SessionStorageKey?) async throws -> Int {
        let connections = try await connections()
        let now = clock()
        return try await write(connections, """
            DELETE FROM \(Self.table) WHERE user_id = ?1 AND (?2 IS NULL OR key_hash <> ?2) RETURNING expires_at
            """, [.text(userID), except.map(Self.blob) ?? .null]) { rows in
            rows.filter { ($0.column("expires_at")?.integer).map { Int64($0) > now } ?? false }.count
        }
    }

    // MARK: Helpers

    /// Runs a read-only statement on a reader connection (for extensions in other files).
    func query(_ sql: String, _ binds: [SQLiteData]) async throws -> [SQLiteRow] {
        try await read(try await connections(), sql, binds)
    }

    /// The store's clock.
    func now() -> Int64 { clock() }

    /// Runs a write statement through the write queue.
    private func write(_ sql: String, _ binds: [SQLiteData]) async throws {
        try await submit(try await connections(), [.init(sql, binds)]) { _ in }
    }

    /// `SELECT changes()`, run right after a write in the same job: whether it changed a row.
    ///
    /// The hot writes learn this from `changes()` instead of `RETURNING`: SQLite runs a `RETURNING`
    /// clause as a trigger, which makes the statement open a statement journal inside the group
    /// commit's transaction; freeing that journal after every write made the writer thread's
    /// allocator return memory to the kernel (an `madvise` per write, measured), and the TLB
    /// shootdowns that follow cost every core. Without it, SQLite /write served 35-45 % more
    /// requests in the HTTP benchmark.
    private static let changes = SQLiteWriteQueue.Statement("SELECT changes() AS changed")

    /// Runs one write statement and `SELECT changes()` through the write queue; `true` if the
    /// statement changed (inserted, updated) a row.
    private func writeChangingRows(_ sql: String, _ binds: [SQLiteData]) async throws -> Bool {
        try await submit(try await connections(), [.init(sql, binds), Self.changes]) { rows in
            (rows.first?.column("changed")?.integer ?? 0) > 0
        }
    }

    /// Runs a write statement through the write queue and reduces its rows to `Result`.
    private func write<Result>(
        _ connections: OpenConnections, _ sql: String, _ binds: [SQLiteData],
        _ reduce: ([SQLiteRow]) -> Result
    ) async throws -> Result {
        try await submit(connections, [.init(sql, binds)], reduce)
    }

    /// Runs statements, one write, through the write queue and reduces the last one's rows to `Result`.
    private func submit<Result>(
        _ connections: OpenConnections, _ statements: [SQLiteWriteQueue.Statement],
        _ reduce: ([SQLiteRow]) -> Result
    ) async throws -> Result {
        do {
            return reduce(try await connections.writes.submit(statements))
        } catch {
            throw Self.wrap(error)
        }
    }

    /// Runs a read-only statement on the next reader connection. A reader's thread runs one
    /// statement at a time, so reads need not check it out; without readers, the writer serves
    /// reads between write batches.
    private func read(_ connections: OpenConnections, _ sql: String, _ binds: [SQLiteData]) async throws -> [SQLiteRow] {
        do {
            if connections.readers === connections.writer {
                return try await connections.readers.withConnection { try await $0.query(sql, binds) }
            }
            let readers = connections.readers.connections
            let index = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
            return try await readers[Int(UInt(bitPattern: index) % UInt(readers.count))].query(sql, binds)
        } catch {
            throw Self.wrap(error)
        }
    }

    private static func wrap(_ error: any Error) -> any Error {
        if error is SessionStoreError || error is CancellationError { return error }
        return SessionStoreError(.unavailable, "SQLite session store: \(error)")
    }

    private static func isUniqueViolation(_ error: SQLiteError) -> Bool {
        switch error.reason {
        case .constraint, .constraintPrimaryKeyFailed, .constraintUniqueFailed: return true
        default: return false
        }
    }

    private static var corrupt: SessionStoreError {
        SessionStoreError(.corruptRecord, "a stored session row could not be read")
    }

    private static func blob(_ key: SessionStorageKey) -> SQLiteData { .blob(ByteBuffer(bytes: key.bytes)) }

    private static func text(_ string: String?) -> SQLiteData { string.map { .text($0) } ?? .null }

    private static func integer(_ row: SQLiteRow, _ column: String) throws -> Int64 {
        guard let value = row.column(column)?.integer else { throw corrupt }
        return Int64(value)
    }
}
