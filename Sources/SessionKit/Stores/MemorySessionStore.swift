import Logging
import ServiceLifecycle
import Synchronization

/// A session store in the process's memory: for development, tests and single-instance apps.
///
/// Sessions are spread over independently locked shards (chosen by bytes of the storage key), so
/// requests for different sessions rarely wait on each other. Each session is one compact byte
/// blob plus a few integers, its key and six 32-bit links; a user agent is kept once for all the
/// sessions that sent it (measured at one million sessions of about 100 bytes of data: 295 bytes
/// of resident memory each, 370 with a user agent, an address and a user ID). Expiry is checked
/// on every read;
/// ``run()`` (a `Service`) removes expired sessions in the background at a cost that follows the
/// number of expired sessions, not the total. Beyond ``MemorySessionStoreConfiguration/maximumSessions``
/// the least recently used sessions of a shard are evicted. It keeps a user index
/// (``SessionUserIndex``); revoking a user's sessions is atomic with respect to renames, so a
/// session whose ID is regenerated meanwhile cannot slip past a "sign out everywhere".
///
/// ```swift
/// let store = MemorySessionStore()
/// let services = ServiceGroup(configuration: .init(services: [app, store], logger: logger)) // runs cleanup
/// ```
public final class MemorySessionStore: SessionUserIndex, Service {
    private final class Shard: Sendable {
        let state: Mutex<MemorySessionStoreShard>
        init(capacity: Int, seed: UInt64) { state = Mutex(MemorySessionStoreShard(capacity: capacity, seed: seed)) }
    }

    static let minimumSessionsPerShard = 1024

    /// The settings the store was made with.
    public let configuration: MemorySessionStoreConfiguration
    private let shards: [Shard]
    private let shardMask: Int
    /// Held by renames that move a session between shards and by the user index's walks over every
    /// shard, so that such a walk never misses a session moving behind it (taken before any shard's
    /// lock).
    private let crossShardLock = Mutex<Void>(())
    private let clock: @Sendable () -> Int64
    private let logger: Logger

    /// A store with `configuration`, reading time from `clock` (Unix seconds).
    public init(
        configuration: MemorySessionStoreConfiguration = .init(),
        clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        logger: Logger = Logger(label: "SessionKit.MemorySessionStore")
    ) {
        var shardCount = 1
        while shardCount < max(1, min(configuration.shardCount, 1 << 12)) { shardCount <<= 1 }
        // Keep shards large enough that per-shard eviction is a fair approximation of global LRU.
        while shardCount > 1, shardCount * Self.minimumSessionsPerShard > configuration.maximumSessions { shardCount >>= 1 }
        let perShard = (max(1, configuration.maximumSessions) + shardCount - 1) / shardCount
        self.configuration = configuration
        self.shards = (0..<shardCount).map { _ in Shard(capacity: perShard, seed: BufferedRandom.next()) }
        self.shardMask = shardCount - 1
        self.clock = clock
        self.logger = logger
    }

    /// The number of sessions held, including expired ones not yet removed.
    public var count: Int {
        shards.reduce(0) { total, shard in total + shard.state.withLock { $0.count } }
    }

    /// Distinct user agents held, each once per shard (for tests).
    var userAgentCount: Int {
        shards.reduce(0) { total, shard in total + shard.state.withLock { $0.userAgentCount } }
    }

    private func shardIndex(_ key: SessionStorageKey) -> Int { key.shardBits & shardMask }
    private func shard(_ key: SessionStorageKey) -> Shard { shards[shardIndex(key)] }

    // MARK: SessionStore

    public func load(_ key: SessionStorageKey) async throws -> StoredSession? {
        let now = clock()
        guard let record = shard(key).state.withLock({ $0.load(key, now: now) }) else { return nil }
        return try Self.session(from: record)
    }

    public func create(_ key: SessionStorageKey, _ session: StoredSession) async throws {
        let record = MemorySessionStoreShard.Record(
            blob: SessionRecordCoding.encode(session.values, trailer: [session.ipAddress]),
            userID: session.userID,
            createdAt: session.createdAt,
            lastSeenAt: session.lastSeenAt,
            expiresAt: min(session.expiresAt, session.absoluteExpiresAt),
            absoluteExpiresAt: session.absoluteExpiresAt,
            userAgent: session.userAgent
        )
        let now = clock()
        try shard(key).state.withLock { shard throws(SessionStoreError) in try shard.insert(key, record, now: now) }
    }

    public func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        // Everything that can be done outside the lock is: JSON text of the new values, the new user.
        let delta = Self.normalized(delta)
        let newUserID: String??
        switch delta {
        case .replaceAll(let values): newUserID = .some(StoredSession.userID(from: values[StoredSession.userIDKey]))
        case .update(let set, let remove), .updateApplying(let set, let remove, operations: _):
            if case .updateApplying(_, _, let operations) = delta { try SessionOperationWire.check(operations) }
            if let value = set[StoredSession.userIDKey] {
                newUserID = .some(StoredSession.userID(from: value))
            } else if remove.contains(StoredSession.userIDKey) {
                newUserID = .some(nil)
            } else {
                newUserID = .none
            }
        }
        let now = clock()
        return try shard(key).state.withLock { shard in
            try shard.update(key, now: now, expiresAt: expiresAt, newUserID: newUserID) { blob in
                try SessionRecordCoding.applying(delta, toBlob: blob)
            }
        }
    }

    public func touch(_ key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        let now = clock()
        return shard(key).state.withLock { $0.touch(key, expiresAt: expiresAt, now: now) }
    }

    public func delete(_ key: SessionStorageKey) async throws {
        let now = clock()
        shard(key).state.withLock { _ = $0.remove(key, now: now) }
    }

    public func rename(_ old: SessionStorageKey, to new: SessionStorageKey) async throws -> Bool {
        let now = clock()
        let from = shardIndex(old)
        let to = shardIndex(new)
        @Sendable func move(_ source: inout MemorySessionStoreShard, _ target: inout MemorySessionStoreShard) throws(SessionStoreError) -> Bool {
            guard source.containsLive(old, now: now) else { return false }
            if target.containsLive(new, now: now) { throw SessionStoreError.alreadyExists(new) }
            guard let record = source.remove(old, now: now) else { return false }
            try target.insert(new, record, now: now)
            return true
        }
        if from == to {
            return try shards[from].state.withLock { shard throws(SessionStoreError) in
                guard shard.containsLive(old, now: now) else { return false }
                if shard.containsLive(new, now: now) { throw SessionStoreError.alreadyExists(new) }
                guard let record = shard.remove(old, now: now) else { return false }
                try shard.insert(new, record, now: now)
                return true
            }
        }
        // Both shards locked, always the lower index first, so that renames cannot deadlock; and
        // not while a revocation walks the shards (it could have passed `to` but not `from`).
        let (first, second) = from < to ? (from, to) : (to, from)
        return try crossShardLock.withLock { _ throws(SessionStoreError) in
            try shards[first].state.withLock { firstShard throws(SessionStoreError) in
                try shards[second].state.withLock { secondShard throws(SessionStoreError) in
                    from < to ? try move(&firstShard, &secondShard) : try move(&secondShard, &firstShard)
                }
            }
        }
    }

    public func removeExpired() async throws -> Int {
        let now = clock()
        var removed = 0
        for shard in shards {
            removed += shard.state.withLock { $0.removeExpired(now: now) }
        }
        return removed
    }

    // MARK: SessionUserIndex

    public func sessions(ofUser userID: String) async throws -> [UserSessionInfo] {
        let now = clock()
        // One consistent listing: no session is missed or listed twice while it moves between shards.
        let found = crossShardLock.withLock { _ in
            shards.flatMap { shard in shard.state.withLock { $0.sessions(ofUser: userID, now: now) } }
        }
        var infos: [UserSessionInfo] = []
        for (key, record) in found {
            let trailer = try SessionRecordCoding.decode(record.blob).trailer
            infos.append(UserSessionInfo(
                key: key, createdAt: record.createdAt, lastSeenAt: record.lastSeenAt, expiresAt: record.expiresAt,
                absoluteExpiresAt: record.absoluteExpiresAt,
                userAgent: record.userAgent, ipAddress: trailer.first ?? nil
            ))
        }
        return infos.sorted { ($0.createdAt, $0.key.hex) < ($1.createdAt, $1.key.hex) }
    }

    public func revokeSessions(ofUser userID: String, except: SessionStorageKey?) async throws -> Int {
        let now = clock()
        // Renames between shards wait until every shard has been visited: otherwise a session
        // renamed from a shard not yet visited into one already visited would survive.
        return crossShardLock.withLock { _ in
            shards.reduce(0) { revoked, shard in revoked + shard.state.withLock { $0.revoke(ofUser: userID, except: except, now: now) } }
        }
    }

    // MARK: Service

    /// Removes expired sessions every ``MemorySessionStoreConfiguration/cleanupInterval`` until
    /// graceful shutdown or cancellation. Add the store to your `ServiceGroup`.
    public func run() async throws {
        try await SessionStoreCleanupService(store: self, interval: configuration.cleanupInterval, logger: logger).run()
    }

    // MARK: Helpers

    private static func session(from record: MemorySessionStoreShard.Record) throws -> StoredSession {
        let (values, trailer) = try SessionRecordCoding.decode(record.blob)
        return StoredSession(
            values: values,
            createdAt: record.createdAt,
            lastSeenAt: record.lastSeenAt,
            expiresAt: record.expiresAt,
            absoluteExpiresAt: record.absoluteExpiresAt,
            userAgent: record.userAgent,
            ipAddress: trailer.first ?? nil
        )
    }

    /// The delta with every value in its JSON form, so that the work under the lock is copying bytes.
    private static func normalized(_ delta: SessionDelta) -> SessionDelta {
        switch delta {
        case .replaceAll(let values): return .replaceAll(values.mapValues { SessionValue(json: $0.jsonBytes) })
        case .update(let set, let remove): return .update(set: set.mapValues { SessionValue(json: $0.jsonBytes) }, remove: remove)
        case .updateApplying(let set, let remove, let operations):
            return .updateApplying(set: set.mapValues { SessionValue(json: $0.jsonBytes) }, remove: remove, operations: operations)
        }
    }
}
