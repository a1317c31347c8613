import NIOCore

/// Settings of ``SQLiteSessionStore``.
///
/// ```swift
/// let store = SQLiteSessionStore(configuration: .init(path: "/var/lib/app/sessions.sqlite", readerCount: 4))
/// ```
public struct SQLiteSessionStoreConfiguration: Sendable {
    /// The database file (created when missing); prefer an absolute path.
    public var path: String
    /// Connections used for reads besides the one writer connection (WAL lets them read while it
    /// writes); each read takes an idle one and runs on the caller's thread, so this many reads run
    /// at once. The default is one per core (at least two), as many as Swift's cooperative threads.
    /// With none, the writer connection serves reads between writes.
    public var readerCount: Int
    /// How long a statement waits for a lock held by another connection or process.
    public var busyTimeout: Duration
    /// How often the store's ``SQLiteSessionStore/run()`` removes expired sessions.
    public var cleanupInterval: Duration
    /// How many expired sessions one cleanup statement deletes; cleanup loops until none are left,
    /// so other writers get their turn between batches.
    public var cleanupBatchSize: Int
    /// Opens the file read-only (`SQLITE_OPEN_READONLY`), for tools that only look: nothing is
    /// created, migrated or written, and every write throws. The file must exist and hold a schema
    /// this SessionKit reads (version 1 or 2); an older one is not migrated.
    public var readOnly: Bool

    public init(
        path: String,
        readerCount: Int = Swift.max(2, System.coreCount),
        busyTimeout: Duration = .seconds(5),
        cleanupInterval: Duration = .seconds(60),
        cleanupBatchSize: Int = 1000,
        readOnly: Bool = false
    ) {
        self.path = path
        self.readerCount = readerCount
        self.busyTimeout = busyTimeout
        self.cleanupInterval = cleanupInterval
        self.cleanupBatchSize = cleanupBatchSize
        self.readOnly = readOnly
    }
}
