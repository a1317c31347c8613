/// Settings of ``MemorySessionStore``.
///
/// ```swift
/// let store = MemorySessionStore(configuration: .init(maximumSessions: 100_000, cleanupInterval: .seconds(30)))
/// ```
public struct MemorySessionStoreConfiguration: Sendable {
    /// The most sessions kept; beyond it expired sessions go first, then the least recently used.
    /// The bound is enforced per shard (`maximumSessions / shardCount` each, rounded up), so
    /// eviction is least-recently-used within a shard, which is close to global LRU for random
    /// keys; a small maximum uses fewer shards (at least 1024 sessions a shard).
    public var maximumSessions: Int
    /// The number of independently locked shards, rounded up to a power of two (at most 4096).
    public var shardCount: Int
    /// How often the store's ``MemorySessionStore/run()`` removes expired sessions.
    public var cleanupInterval: Duration

    public init(maximumSessions: Int = 1_000_000, shardCount: Int = 32, cleanupInterval: Duration = .seconds(60)) {
        self.maximumSessions = maximumSessions
        self.shardCount = shardCount
        self.cleanupInterval = cleanupInterval
    }
}
