import Logging
import PostgresNIO
import ServiceLifecycle
import SessionKit
import Synchronization

/// Server-side sessions in PostgreSQL: many app servers, one shared store.
///
/// One table keyed by the storage key (a SHA-256 as a `bytea` primary key) holds each session's
/// values as one compact `bytea` next to its deadlines and an indexed `user_id`. Cleanup finds
/// expired rows through an indexed `sweep_at`, a deadline never later than `expires_at` that a
/// write moves only when it brings `expires_at` before it, so the usual write changes no indexed
/// column and PostgreSQL can update the row in place (a HOT update, with room kept on each page by
/// `fillfactor = 90`) instead of adding an entry to every index. Reads, creates,
/// touches, renames, deletes, cleanup and writes are single statements. A request's write is the
/// values it loaded with its changes applied, made only while the row is still at the loaded
/// version (the engine passes the session as it loaded it); when another request changed it meanwhile,
/// or for a bare ``apply(_:to:expiresAt:)``, the key-level delta is merged into the stored values
/// inside PostgreSQL (the function `sessionkit_apply_delta`, which the migration installs) under
/// the row's lock, so concurrent requests on any server that change different keys of one session
/// all win, and a write to a session that is gone or expired changes nothing and reports `false`.
/// Times come from the store's clock, never the database's.
///
/// A store made from a URL runs a request's statements on connections of its own, pipelined and
/// prepared (<doc:ConnectingToPostgreSQL> says how); the rest runs on ``client``.
/// The schema is created or migrated on first use (or by ``migrate()``) and versioned in a
/// `sessionkit_schema` table.
///
/// Run the store as a `Service`: its ``run()`` runs the `PostgresClient` (the connection pool) and
/// removes expired sessions in batches until graceful shutdown. List it before the app in the
/// `ServiceGroup`, so that it shuts down after the app has finished its requests. A database that is
/// down makes operations fail with ``/SessionKit/SessionStoreError/Code/unavailable`` after
/// ``PostgresSessionStoreConfiguration/connectionTimeout`` (the engine then fails closed).
///
/// ```swift
/// let store = PostgresSessionStore(
///     host: "db.internal", username: "app", password: env["PGPASSWORD"], database: "app",
///     tls: .require(.makeClientConfiguration())
/// )
/// let group = ServiceGroup(configuration: .init(services: [store, app], logger: logger))
/// try await group.run()      // runs the pool, migrates, cleans up; stops after the app
/// ```
public final class PostgresSessionStore: SessionUserIndex, Service {
    private enum MigrationState: Sendable {
        case idle
        case running(Task<Void, any Error>)
        case done
    }

    /// The schema version this code writes (in `sessionkit_schema`).
    public static let schemaVersion = 2
    static let tableName = "sessionkit_sessions"

    /// The client the store runs its queries on.
    public let client: PostgresClient
    /// The settings the store was made with.
    public let configuration: PostgresSessionStoreConfiguration
    let tables: Tables
    /// The SQL of the frequent statements, for these tables.
    let statements: PostgresSessionStatements
    let clock: @Sendable () -> Int64
    let logger: Logger
    private let migration = Mutex<MigrationState>(.idle)
    /// Times the waits for a connection and looks at running leases' connections, every
    /// ``PostgresSessionStoreConfiguration/connectionTimeout`` (``LeasedConnection``).
    let leaseWatchdog: LeaseWatchdog
    /// SessionKit's own connections for the request path (a store made from a URL), or `nil`:
    /// every statement then runs on ``client``.
    let wirePool: PostgresWirePool?
    /// The request path's statements as ``wirePool`` runs them.
    let wireStatements: PostgresWireStatements
    /// Concurrent writes to one session sent as one statement, on ``wirePool``.
    let writeCoalescer = SessionWriteCoalescer()

    /// A store on `client`: every statement runs on it. The store's ``run()`` runs the client unless
    /// ``PostgresSessionStoreConfiguration/runsClient`` is `false`. A store made from a URL
    /// (``init(url:configuration:clock:logger:)``) is faster: it runs the request path on
    /// connections of its own.
    public convenience init(
        client: PostgresClient,
        configuration: PostgresSessionStoreConfiguration = .init(),
        clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        logger: Logger = Logger(label: "SessionKit.PostgresSessionStore")
    ) {
        self.init(client: client, wirePool: nil, configuration: configuration, clock: clock, logger: logger)
    }

    init(
        client: PostgresClient,
        wirePool: PostgresWirePool?,
        configuration: PostgresSessionStoreConfiguration,
        clock: @escaping @Sendable () -> Int64,
        logger: Logger
    ) {
        if let schema = configuration.schema {
            precondition(PostgresSessionStoreConfiguration.isPlainIdentifier(schema), "the session store's schema must be a plain SQL identifier")
        }
        self.client = client
        self.configuration = configuration
        self.tables = Tables(schema: configuration.schema)
        self.statements = PostgresSessionStatements(tables: tables)
        self.wirePool = wirePool
        self.wireStatements = PostgresWireStatements(statements, prepared: configuration.usesPreparedStatements)
        self.clock = clock
        self.logger = logger
        self.leaseWatchdog = LeaseWatchdog(timeout: configuration.connectionTimeout)
    }

    /// A store with its own `PostgresClient` for the server at `host`; it logs the pool's
    /// background events to `logger`. Pass `tls: .disable` only for a server on the same host or a
    /// trusted network. Every statement runs on its `PostgresClient`, whose pool keeps
    /// ``hostPoolSize`` connections open, keep-alive every ``PostgresConnectionURL/keepAliveFrequency``
    /// (``PostgresConnectionURL`` says why). A store made from a URL is faster: it runs the request
    /// path on connections of its own (``init(url:configuration:clock:logger:)``).
    public convenience init(
        host: String,
        port: Int = 5432,
        username: String,
        password: String?,
        database: String?,
        tls: PostgresClient.Configuration.TLS,
        configuration: PostgresSessionStoreConfiguration = .init(),
        clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        logger: Logger = Logger(label: "SessionKit.PostgresSessionStore")
    ) {
        var clientConfiguration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        PostgresConnectionURL.applyPool(size: Self.hostPoolSize, to: &clientConfiguration)
        self.init(
            client: PostgresClient(configuration: clientConfiguration, backgroundLogger: logger),
            configuration: configuration, clock: clock, logger: logger
        )
    }

    /// The connections the `PostgresClient` of ``init(host:port:username:password:database:tls:configuration:clock:logger:)`` keeps.
    public static let hostPoolSize = 8

    // MARK: Lifecycle

    /// Creates or migrates the schema (idempotent; safe when several servers start at once). Throws
    /// ``/SessionKit/SessionStoreError/Code/unavailable`` when the database cannot be reached or was migrated
    /// by a newer SessionKit. Needs the client running (``run()`` does both), and a role that may
    /// create tables in the schema (on PostgreSQL 15 and later only the database owner may create
    /// in `public` by default; otherwise set ``PostgresSessionStoreConfiguration/schema``).
    public func migrate() async throws {
        let task: Task<Void, any Error>? = migration.withLock { state in
            switch state {
            case .done:
                return nil
            case .running(let task):
                return task
            case .idle:
                let task = Task { [self] in
                    let schema = configuration.schema
                    let tables = self.tables
                    let logger = self.logger
                    try await leasingConnection { connection in
                        try await Self.migrateSchemaExplainingPrivileges(connection, schema: schema, tables: tables, logger: logger)
                    }
                }
                state = .running(task)
                return task
            }
        }
        guard let task else { return }
        do {
            try await task.value
            migration.withLock { state in
                if case .running(let current) = state, current == task { state = .done }
            }
        } catch {
            // Let the next call try again (the database may come back).
            migration.withLock { state in
                if case .running(let current) = state, current == task { state = .idle }
            }
            throw Self.wrap(error)
        }
    }

    /// Runs the client (unless ``PostgresSessionStoreConfiguration/runsClient`` is `false`),
    /// migrates, then removes expired sessions every
    /// ``PostgresSessionStoreConfiguration/cleanupInterval`` until graceful shutdown or
    /// cancellation. Throws when the migration fails. Call it once.
    ///
    /// It returns within ``PostgresSessionStoreConfiguration/connectionTimeout`` of shutdown even
    /// when postgres-nio's client does not stop (a keep-alive it sent as it closed that connection
    /// can keep its `run()` waiting forever); it then logs a warning and leaves the client behind.
    public func run() async throws {
        defer { wirePool?.close() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            if configuration.runsClient {
                let client = self.client
                group.addTask { await PostgresClientRunner.run(client, grace: self.configuration.connectionTimeout, logger: self.logger) }
            }
            group.addTask {
                try await self.migrate()
                try await SessionStoreCleanupService(store: self, interval: self.configuration.cleanupInterval, logger: self.logger).run()
            }
            // Not waitForAll(): it would wait for the client after the migration failed.
            while try await group.next() != nil {}
        }
    }

    /// Migrates unless done.
    func migrateIfNeeded() async throws {
        if case .done = migration.withLock({ $0 }) {} else { try await migrate() }
    }

    /// Runs `body` on a connection once the schema is in place.
    private func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await migrateIfNeeded()
        return try await leasingConnection(body)
    }

    // MARK: SessionStore

    public func load(_ key: SessionStorageKey) async throws -> StoredSession? {
        if let wirePool {
            let bindings: PostgresWireBindings = PostgresSessionParameters.load(key: key, now: clock())
            guard let row = try await run(wireStatements.load, bindings, key: key, on: wirePool).rows.first else { return nil }
            return try Self.storedSession(fromRow: row, touching: false).0
        }
        let statement = PostgresLoadStatement(key: key, now: clock())
        return try await withConnection { connection in
            guard let (data, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, userAgent, ipAddress, revision)
                = try await self.rows(statement, on: connection).first else { return nil }
            var session = StoredSession(
                values: try SessionRecordCoding.decode(data.readableBytesView).values,
                createdAt: createdAt, lastSeenAt: lastSeenAt, expiresAt: expiresAt, absoluteExpiresAt: absoluteExpiresAt,
                userAgent: userAgent, ipAddress: ipAddress
            )
            session.revision = revision
            return session
        }
    }

    /// One `SELECT` (prepared: the store's `loadTouch` statement): the session and, when it
    /// is due, its touch (`sessionkit_touch_if_due`, an `UPDATE` under the row's lock, called from
    /// the `SELECT` only for a due row). A read that is
    /// not due costs what a plain ``load(_:)`` costs (measured with pgbench, see BENCHMARKS.md). The
    /// statement never walks a blob on that path: a row that holds a `_permanent` entry, when only
    /// the non-permanent window's threshold has passed, is decided here from its decoded values,
    /// and only when it is due after all (a session holding `_permanent: false`) does it take a
    /// second round trip, ``touch(_:expiresAt:)``.
    public func load(_ key: SessionStorageKey, touchingIfDue touch: SessionLoadTouch) async throws -> SessionLoadTouch.Loaded? {
        let now = clock()
        let found: SessionLoadTouch.Loaded?
        if let wirePool {
            found = try await loadTouching(key, now: now, touch: touch, on: wirePool)
        } else {
            found = try await loadTouching(key, now: now, touch: touch)
        }
        guard let loaded = found else { return nil }
        // Left to this side by the statement (see above), or touched by another request between the
        // row's read and its lock: one more round trip when due, as the protocol's default makes.
        guard !loaded.touched, var result = try await touchIfDue(key, loaded: loaded.session, with: touch) else { return loaded }
        // A touch wrote a newer version of the row than the revision read.
        if result.touched { result.session.revision = nil }
        return result
    }

    private func loadTouching(_ key: SessionStorageKey, now: Int64, touch: SessionLoadTouch, on pool: PostgresWirePool) async throws -> SessionLoadTouch.Loaded? {
        let bindings: PostgresWireBindings = PostgresSessionParameters.loadTouch(key: key, now: now, touch: touch)
        guard let row = try await run(wireStatements.loadTouch, bindings, key: key, on: pool).rows.first else { return nil }
        var (session, touchedDeadline) = try Self.storedSession(fromRow: row, touching: true)
        if let touchedDeadline {
            // The statement's touch wrote a newer version of the row than the revision read.
            session.expiresAt = touchedDeadline
            session.lastSeenAt = now
            session.revision = nil
        }
        return SessionLoadTouch.Loaded(session: session, touched: touchedDeadline != nil)
    }

    private func loadTouching(_ key: SessionStorageKey, now: Int64, touch: SessionLoadTouch) async throws -> SessionLoadTouch.Loaded? {
        let statement = PostgresLoadTouchStatement(key: key, now: now, touch: touch)
        return try await withConnection { connection -> SessionLoadTouch.Loaded? in
            guard let (data, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, userAgent, ipAddress, touchedDeadline, revision)
                = try await self.rows(statement, on: connection).first else { return nil }
            var session = StoredSession(
                values: try SessionRecordCoding.decode(data.readableBytesView).values,
                createdAt: createdAt, lastSeenAt: lastSeenAt, expiresAt: expiresAt, absoluteExpiresAt: absoluteExpiresAt,
                userAgent: userAgent, ipAddress: ipAddress
            )
            session.revision = revision
            if let touchedDeadline {
                // The statement's touch wrote a newer version of the row than the revision read.
                session.expiresAt = touchedDeadline
                session.lastSeenAt = now
                session.revision = nil
            }
            return SessionLoadTouch.Loaded(session: session, touched: touchedDeadline != nil)
        }
    }

    public func create(_ key: SessionStorageKey, _ session: StoredSession) async throws {
        let created: Bool
        if let wirePool {
            created = try await create(key, session, on: wirePool)
        } else {
            let bindings: PostgresBindings = PostgresSessionParameters.create(key: key, session: session, now: clock())
            let (logger, query) = (logger, PostgresQuery(unsafeSQL: statements.create.sql, binds: bindings))
            created = try await withConnection { connection in try await Self.hasRows(try await connection.query(query, logger: logger)) }
        }
        if !created { throw SessionStoreError(.alreadyExists, "a live session already has the key \(key)") }
    }

    public func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        if let wirePool { return try await apply(delta, to: key, expiresAt: expiresAt, on: wirePool) }
        let now = clock()
        switch delta {
        case .replaceAll(let values):
            var bindings: PostgresBindings = PostgresSessionParameters.write(expiresAt: expiresAt, now: now, key: key)
            PostgresSessionParameters.appendValues(values, to: &bindings)
            return try await write(PostgresWriteStatement<PostgresReplaceWrite>(bindings: bindings))
        case .update(let set, let remove) where set.isEmpty && remove.isEmpty:
            return try await touch(key, expiresAt: expiresAt)
        case .update(let set, let remove):
            // One statement: PostgreSQL merges the delta into the stored blob under the row's lock
            // (`sessionkit_apply_delta`), so concurrent applies to one session never retry.
            var bindings: PostgresBindings = PostgresSessionParameters.write(expiresAt: expiresAt, now: now, key: key)
            PostgresSessionParameters.appendDelta(set: set, remove: remove, to: &bindings)
            return try await write(PostgresWriteStatement<PostgresUpdateWrite>(bindings: bindings))
        case .updateApplying(let set, let remove, let list):
            // The delta, then the operations on the values as the row holds them now, in one
            // statement under the row's lock: no concurrent request's operation is lost.
            try SessionOperationWire.check(list)
            var bindings: PostgresBindings = PostgresSessionParameters.write(expiresAt: expiresAt, now: now, key: key)
            PostgresSessionParameters.appendDelta(set: set, remove: remove, to: &bindings)
            bindings.append(SessionOperationWire.encodedText(list))
            return try await write(PostgresWriteStatement<PostgresOperateWrite>(bindings: bindings))
        }
    }

    public func touch(_ key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        if let wirePool {
            let bindings: PostgresWireBindings = PostgresSessionParameters.write(expiresAt: expiresAt, now: clock(), key: key)
            return try await !run(wireStatements.touch, bindings, key: key, on: wirePool).rows.isEmpty
        }
        let bindings: PostgresBindings = PostgresSessionParameters.write(expiresAt: expiresAt, now: clock(), key: key)
        return try await write(PostgresWriteStatement<PostgresTouchWrite>(bindings: bindings))
    }

    /// Runs a write; `true` when it changed a live session.
    func write<Kind>(_ statement: PostgresWriteStatement<Kind>) async throws -> Bool {
        try await withConnection { connection in try await !self.rows(statement, on: connection).isEmpty }
    }

    public func delete(_ key: SessionStorageKey) async throws {
        if let wirePool {
            _ = try await run(wireStatements.delete, PostgresSessionParameters.delete(key: key), key: key, on: wirePool)
            return
        }
        let (logger, query) = (logger, PostgresQuery(unsafeSQL: statements.delete.sql, binds: PostgresSessionParameters.delete(key: key)))
        _ = try await withConnection { connection in try await Self.hasRows(try await connection.query(query, logger: logger)) }
    }

    public func rename(_ old: SessionStorageKey, to new: SessionStorageKey) async throws -> Bool {
        let (table, logger, now) = (tables.sessions, logger, clock())
        return try await withConnection { connection in
            // An expired session under the new key may be replaced (deleting it is what cleanup
            // would do); a live one, even one created meanwhile, makes the UPDATE fail.
            try await connection.query("""
                DELETE FROM \(unescaped: table) WHERE key_hash = \(Self.bytes(new)) AND expires_at <= \(now)
                """, logger: logger)
            do {
                let rows = try await connection.query("""
                    UPDATE \(unescaped: table) SET key_hash = \(Self.bytes(new))
                    WHERE key_hash = \(Self.bytes(old)) AND expires_at > \(now) RETURNING 1
                    """, logger: logger)
                return try await Self.hasRows(rows)
            } catch where Self.isUniqueViolation(error) {
                throw SessionStoreError(.alreadyExists, "a live session already has the key \(new)")
            }
        }
    }

    public func removeExpired() async throws -> Int {
        let (table, now) = (tables.sessions, clock())
        let batch = max(1, configuration.cleanupBatchSize)
        // Both passes visit only rows whose sweep time has passed: first the live ones among them
        // get their deadline as the next sweep time, then the expired ones are deleted. SKIP
        // LOCKED: servers cleaning up at the same time split the work instead of queueing.
        _ = try await runInBatches(batch) { connection in
            try await connection.query("""
                WITH swept AS (
                    UPDATE \(unescaped: table) SET sweep_at = expires_at WHERE key_hash IN (
                        SELECT key_hash FROM \(unescaped: table) WHERE sweep_at <= \(now) AND expires_at > \(now)
                        LIMIT \(batch) FOR UPDATE SKIP LOCKED
                    ) RETURNING 1
                )
                SELECT count(*) FROM swept
                """, logger: self.logger)
        }
        return try await runInBatches(batch) { connection in
            try await connection.query("""
                WITH deleted AS (
                    DELETE FROM \(unescaped: table) WHERE key_hash IN (
                        SELECT key_hash FROM \(unescaped: table) WHERE sweep_at <= \(now) AND expires_at <= \(now)
                        LIMIT \(batch) FOR UPDATE SKIP LOCKED
                    ) RETURNING 1
                )
                SELECT count(*) FROM deleted
                """, logger: self.logger)
        }
    }

    /// Runs `statement` (which selects a count of the rows it changed) until a batch changes fewer
    /// than `batch` rows; returns the rows changed.
    private func runInBatches(
        _ batch: Int, _ statement: @escaping @Sendable (PostgresConnection) async throws -> PostgresRowSequence
    ) async throws -> Int {
        var changed = 0
        while true {
            let count = try await withConnection { connection in try await Self.count(try await statement(connection)) }
            changed += count
            if count < batch { return changed }
            await Task.yield()
        }
    }

    // MARK: SessionUserIndex

    public func sessions(ofUser userID: String) async throws -> [UserSessionInfo] {
        let (table, logger, now) = (tables.sessions, logger, clock())
        return try await withConnection { connection in
            let rows = try await connection.query("""
                SELECT key_hash, created_at, last_seen_at, expires_at, absolute_expires_at, user_agent, ip_address
                FROM \(unescaped: table) WHERE user_id = \(userID) AND expires_at > \(now) ORDER BY created_at, key_hash
                """, logger: logger)
            var sessions: [UserSessionInfo] = []
            for try await row in rows {
                let (keyHash, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, userAgent, ipAddress) = try row.decode(
                    (ByteBuffer, Int64, Int64, Int64, Int64, String?, String?).self
                )
                guard let key = SessionStorageKey(bytes: keyHash.readableBytesView) else { throw Self.corrupt }
                sessions.append(UserSessionInfo(
                    key: key, createdAt: createdAt, lastSeenAt: lastSeenAt, expiresAt: expiresAt,
                    absoluteExpiresAt: absoluteExpiresAt, userAgent: userAgent, ipAddress: ipAddress
                ))
            }
            return sessions
        }
    }

    public func revokeSessions(ofUser userID: String, except: SessionStorageKey?) async throws -> Int {
        let (table, logger, now) = (tables.sessions, logger, clock())
        return try await withConnection { connection in
            let rows: PostgresRowSequence
            if let except {
                rows = try await connection.query("""
                    WITH deleted AS (
                        DELETE FROM \(unescaped: table) WHERE user_id = \(userID) AND key_hash <> \(Self.bytes(except)) RETURNING expires_at
                    )
                    SELECT count(*) FILTER (WHERE expires_at > \(now)) FROM deleted
                    """, logger: logger)
            } else {
                rows = try await connection.query("""
                    WITH deleted AS (DELETE FROM \(unescaped: table) WHERE user_id = \(userID) RETURNING expires_at)
                    SELECT count(*) FILTER (WHERE expires_at > \(now)) FROM deleted
                    """, logger: logger)
            }
            return try await Self.count(rows)
        }
    }

    // MARK: Helpers

    static func bytes(_ key: SessionStorageKey) -> ByteBuffer { ByteBuffer(bytes: key.bytes) }

    /// The stored values with `delta` merged in, encoded, and the user they name.
    /// Whether the statement returned a row (consuming them all).
    private static func hasRows(_ rows: PostgresRowSequence) async throws -> Bool {
        var found = false
        for try await _ in rows { found = true }
        return found
    }

    /// The single `count(*)` a statement returned.
    private static func count(_ rows: PostgresRowSequence) async throws -> Int {
        var count: Int64 = 0
        for try await row in rows { count = try row.decode(Int64.self) }
        return Int(count)
    }
}
