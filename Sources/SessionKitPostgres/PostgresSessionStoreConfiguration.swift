/// Settings of ``PostgresSessionStore``.
///
/// ```swift
/// var configuration = PostgresSessionStoreConfiguration(schema: "sessions")
/// configuration.connectionTimeout = .seconds(2)     // fail closed (503) sooner when the database is down
/// let store = PostgresSessionStore(client: client, configuration: configuration)
/// ```
public struct PostgresSessionStoreConfiguration: Sendable {
    /// The PostgreSQL schema that holds the store's tables (created by ``PostgresSessionStore/migrate()``
    /// when missing), or `nil` for the connection's `search_path` (usually `public`). A plain
    /// identifier: letters, digits and `_`, not starting with a digit, at most 63 characters.
    public var schema: String?
    /// How long an operation waits for a pooled connection before it fails with
    /// ``/SessionKit/SessionStoreError/Code/unavailable`` (the pool keeps retrying an unreachable server in the
    /// background; without this a request would wait for it).
    public var connectionTimeout: Duration
    /// How often the store's ``PostgresSessionStore/run()`` removes expired sessions.
    public var cleanupInterval: Duration
    /// How many expired sessions one cleanup statement deletes; cleanup loops until none are left.
    /// Rows another server is cleaning up at the same time are skipped, not waited for.
    public var cleanupBatchSize: Int
    /// Whether the store's ``PostgresSessionStore/run()`` also runs the `PostgresClient` (its
    /// connection pool). Set it to `false` when the client is shared and run elsewhere: a client's
    /// `run()` may be called only once.
    public var runsClient: Bool
    /// Whether a request's statements (load, touch and the writes) run as prepared statements: each
    /// connection parses and plans them once, then sends only the values, which roughly halves what
    /// a session read costs the app server and the database (BENCHMARKS.md). Turn it off behind a
    /// pooler that cannot keep prepared statements per client connection (PgBouncer in transaction
    /// mode before 1.21, or without `max_prepared_statements`): the same SQL then runs unnamed.
    public var usesPreparedStatements: Bool

    public init(
        schema: String? = nil,
        connectionTimeout: Duration = .seconds(5),
        cleanupInterval: Duration = .seconds(60),
        cleanupBatchSize: Int = 1000,
        runsClient: Bool = true,
        usesPreparedStatements: Bool = true
    ) {
        self.usesPreparedStatements = usesPreparedStatements
        self.schema = schema
        self.connectionTimeout = connectionTimeout
        self.cleanupInterval = cleanupInterval
        self.cleanupBatchSize = cleanupBatchSize
        self.runsClient = runsClient
    }

    /// Whether `name` can be used as ``schema``.
    static func isPlainIdentifier(_ name: String) -> Bool {
        let utf8 = Array(name.utf8)
        guard let first = utf8.first, utf8.count <= 63, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }
}
