/// Settings of ``SQLiteSessionStore``.
///
/// ```swift
/// let store = SQLiteSessionStore(configuration: .init(path: "/var/lib/app/sessions.sqlite", readerCount: 4))
/// ```
public struct SQLiteSessionStoreConfiguration: Sendable {
    /// The database file (created when missing); prefer an absolute path.
    public var path: String
    /// Connections used for reads besides the one writer connection (WAL lets them read while it writes),
    /// each with a thread of its own; reads are spread over them in turn.
    public var readerCount: Int
    /// How long a statement waits for a lock held by another connection or process.
    public var busyTimeout: Duration
    /// How often the store's ``SQLiteSessionStore/run()`` removes expired sessions.
    public var cleanupInterval: Duration
    /// How many expired sessions one cleanup statement deletes; cleanup loops until none are left,
    /// so other writers get their turn between batches.
    public var cleanupBatchSize: Int

    public init(
        path: String,
        readerCount: Int = 2,
        busyTimeout: Duration = .seconds(5),
        cleanupInterval: Duration = .seconds(60),
        cleanupBatchSize: Int = 1000
    ) {
        self.path = path
        self.readerCount = readerCount
        self.busyTimeout = busyTimeout
        self.cleanupInterval = cleanupInterval
        self.cleanupBatchSize = cleanupBatchSize
    }
}
