import Logging
import NIOCore
import ServiceLifecycle
import SessionKit
import Synchronization

/// Server-side sessions in Redis, shared by every instance of an app.
///
/// Each session is one Redis hash, `prefix:s:<key hash>`: the bookkeeping in a few fields and each
/// session value's JSON text in a field of its own, so a key-level delta is a few `HSET`/`HDEL`s
/// and concurrent requests changing different keys never conflict. Every write is one Lua script
/// (run with `EVALSHA`, loaded once per server), so it is atomic: it checks that the session is
/// live, changes it, caps the idle deadline at the absolute one, sets its Redis TTL to the time
/// left, and keeps the indexes in step. A session counts as expired by the store's clock (`now >=
/// expiresAt`) everywhere, so it never loads or takes a write past its deadline even before Redis
/// drops the key; Redis's TTL frees the memory. A sorted set `prefix:expiry` lets ``removeExpired()``
/// clear what is due in batches, and a sorted set per user, `prefix:u:<user>`, is the user index
/// (``/SessionKit/SessionUserIndex``). Only hashes of session IDs reach Redis.
///
/// The store speaks RESP2 itself over a few pipelined connections (opened on first use, replaced
/// when they break); a server that cannot be reached, or does not answer within
/// ``RedisSessionStoreConfiguration/commandTimeout``, gives ``/SessionKit/SessionStoreError/Code/unavailable``.
/// Run it as a `Service` to remove expired sessions from the indexes periodically and to close the
/// connections on graceful shutdown.
///
/// **Redis Cluster** (``RedisSessionStoreConfiguration/clusterNodes``, or a URL with `?cluster=1`):
/// every key then carries the prefix as a hash tag, `{prefix}:s:<hash>`, `{prefix}:u:<user>`,
/// `{prefix}:expiry`, so one prefix's keys share one slot and every script stays one atomic step
/// on one node; each script names its keys (`EVALSHA sha numkeys key...`) so the cluster routes it
/// and checks them. The price, chosen on purpose: all sessions of a prefix live on one master, so
/// spread load by giving apps different prefixes. Spreading one prefix over slots would need user
/// indexes across slots, and "sign out everywhere" and ID rotation would stop being atomic. The
/// store follows `MOVED` (and refreshes its slot map), `ASK` for reads, and waits out `TRYAGAIN`
/// and a slot being migrated for scripts, within ``RedisSessionStoreConfiguration/commandTimeout``;
/// `CLUSTERDOWN` or a node that cannot be reached is ``/SessionKit/SessionStoreError/Code/unavailable``. Without
/// cluster nodes the key names have no hash tag, as they always had.
///
/// ```swift
/// let store = RedisSessionStore(configuration: .init(host: "127.0.0.1", port: 6379, keyPrefix: "myapp:sessions"))
/// try await store.ping()                                           // fail early when Redis is down
/// let group = ServiceGroup(configuration: .init(services: [app, store], logger: logger))
/// try await group.run()                                            // cleanup; closes on shutdown
/// // On Redis Cluster: keys {myapp}:s:<hash>, ... on the master of the slot of "myapp"
/// let clustered = RedisSessionStore(configuration: try .init(url: "redis://10.0.0.1:7000,10.0.0.2:7000/0?cluster=1", keyPrefix: "myapp"))
/// ```
public final class RedisSessionStore: SessionUserIndex, Service {
    enum Script: Int, CaseIterable, Sendable {
        case create, apply, applyOperations, touch, delete, rename, removeExpired, sessions, revoke, loadTouch

        /// The script's Lua on a Redis Cluster.
        var clusterSource: String {
            switch self {
            case .create: RedisSessionScripts.create
            case .apply: RedisSessionScripts.apply
            case .applyOperations: RedisSessionScripts.applyOperations
            case .touch: RedisSessionScripts.touch
            case .delete: RedisSessionScripts.delete
            case .rename: RedisSessionScripts.rename
            case .removeExpired: RedisSessionScripts.removeExpired
            case .sessions: RedisSessionScripts.sessions
            case .revoke: RedisSessionScripts.revoke
            case .loadTouch: RedisSessionScripts.loadTouch
            }
        }

        /// The script's Lua: on a single server, without the cluster's reads before writes.
        func source(cluster: Bool) -> String {
            cluster ? clusterSource : RedisSessionScripts.forSingleServer(clusterSource)
        }
    }

    /// The settings the store was made with.
    public let configuration: RedisSessionStoreConfiguration
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    /// The single server's connections, or the cluster's.
    private let backend: Backend
    /// SHA-1 digests of the loaded scripts, by ``Script`` raw value.
    private let scriptDigests = Mutex<[Int: String]>([:])
    /// What every key starts with: the prefix, or in a cluster the prefix as a hash tag, `{prefix}`.
    private let prefix: String
    /// Concurrent writes to one session sent as one `EVAL`.
    package let writeCoalescer = SessionWriteCoalescer()

    private enum Backend: Sendable {
        case server(RedisConnectionPool)
        case cluster(RedisClusterClient)
    }

    /// A store on the Redis server `configuration` names; nothing connects until first use.
    public init(
        configuration: RedisSessionStoreConfiguration,
        clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        logger: Logger = Logger(label: "SessionKit.RedisSessionStore")
    ) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        let options = RedisConnection.Options(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database,
            connectTimeout: Self.timeAmount(configuration.connectTimeout),
            commandTimeout: Self.timeAmount(configuration.commandTimeout),
            clientName: configuration.clientName, tls: configuration.tls
        )
        if configuration.clusterNodes.isEmpty {
            self.prefix = configuration.keyPrefix
            self.backend = .server(RedisConnectionPool(options: options, size: configuration.poolSize))
        } else {
            self.prefix = "{\(configuration.keyPrefix)}"
            self.backend = .cluster(RedisClusterClient(
                seeds: configuration.clusterNodes, options: options, poolSize: configuration.poolSize,
                retryBudget: configuration.commandTimeout
            ))
        }
    }

    /// The cluster client, when the store runs on Redis Cluster (for tests and diagnostics).
    package var clusterClient: RedisClusterClient? {
        if case .cluster(let client) = backend { return client }
        return nil
    }

    /// What every key of the store starts with: the prefix, or `{prefix}` on Redis Cluster.
    package var keyBase: String { prefix }

    // MARK: Lifecycle

    /// Checks that Redis answers (`PING`); throws ``/SessionKit/SessionStoreError/Code/unavailable`` when it does not.
    public func ping() async throws {
        let reply = try await send(RedisCommand("PING"), key: expiryKey)
        guard case .simpleString = reply else { throw Self.unexpected(reply) }
    }

    /// Closes every connection; later calls throw ``/SessionKit/SessionStoreError/Code/unavailable``.
    public func close() {
        switch backend {
        case .server(let pool): pool.close()
        case .cluster(let client): client.close()
        }
    }

    /// Removes expired sessions from the indexes every ``RedisSessionStoreConfiguration/cleanupInterval``
    /// until graceful shutdown or cancellation, then closes the connections.
    public func run() async throws {
        try await SessionStoreCleanupService(store: self, interval: configuration.cleanupInterval, logger: logger).run()
        close()
    }

    // MARK: SessionStore

    public func load(_ key: SessionStorageKey) async throws -> StoredSession? {
        let sessionKey = sessionKey(key)
        let reply = try await send(RedisCommand("HGETALL", sessionKey), key: sessionKey)
        guard let fields = reply.array else { throw Self.unexpected(reply) }
        guard let session = try Self.session(fromHash: fields), session.expiresAt > clock() else { return nil }
        return session
    }

    /// With ``RedisSessionStoreConfiguration/touchesInLoad`` `false` (the default): `HGETALL`, then
    /// the touch script when due (the protocol's default). With `true`: one `EVALSHA`
    /// (the store's `loadTouch` script): the session's hash, and when it is due, the touch's
    /// writes in the same atomic step. A read that is not due writes nothing.
    public func load(_ key: SessionStorageKey, touchingIfDue touch: SessionLoadTouch) async throws -> SessionLoadTouch.Loaded? {
        guard configuration.touchesInLoad else {
            guard let session = try await load(key) else { return nil }
            return try await touchIfDue(key, loaded: session, with: touch)
        }
        let now = clock()
        var arguments = RedisCommand(prefix, key.hex)
        arguments.append(now)
        arguments.append(touch.expiresAt)
        arguments.append(touch.lastSeenThreshold)
        arguments.append(touch.permanentExpiresAt)
        arguments.append(touch.permanentLastSeenThreshold)
        arguments.append(touch.now)
        let reply = try await evaluateReply(.loadTouch, keys: sessionKeys(key), arguments)
        if case .integer(0) = reply { return nil }
        guard let parts = reply.array, parts.count == 2, let touched = parts[0].int64, let fields = parts[1].array else {
            throw Self.unexpected(reply)
        }
        guard let session = try Self.session(fromHash: fields), session.expiresAt > now else { return nil }
        return SessionLoadTouch.Loaded(session: session, touched: touched == 1)
    }

    /// The session in a hash's fields and values (`HGETALL`'s reply), or `nil` when there are none.
    private static func session(fromHash fields: [RESPValue]) throws -> StoredSession? {
        if fields.isEmpty { return nil }
        guard fields.count % 2 == 0 else { throw Self.corrupt }
        var values: [String: SessionValue] = [:]
        values.reserveCapacity(fields.count / 2)
        var createdAt: Int64?, lastSeenAt: Int64?, expiresAt: Int64?, absoluteExpiresAt: Int64?
        var userAgent: String?, ipAddress: String?
        var index = 0
        while index < fields.count {
            guard var field = fields[index].bytes, let value = fields[index + 1].bytes else { throw Self.corrupt }
            index += 2
            if field.readableBytes >= 2, field.getInteger(at: field.readerIndex, as: UInt16.self) == Self.valuePrefix {
                field.moveReaderIndex(forwardBy: 2)
                values[String(buffer: field)] = SessionValue(json: value.readableBytesView)
                continue
            }
            switch String(buffer: field) {
            case "c": createdAt = Self.integer(value)
            case "l": lastSeenAt = Self.integer(value)
            case "e": expiresAt = Self.integer(value)
            case "a": absoluteExpiresAt = Self.integer(value)
            case "ua": userAgent = String(buffer: value)
            case "ip": ipAddress = String(buffer: value)
            default: break
            }
        }
        guard let createdAt, let lastSeenAt, let expiresAt, let absoluteExpiresAt else { throw Self.corrupt }
        return StoredSession(
            values: values, createdAt: createdAt, lastSeenAt: lastSeenAt, expiresAt: expiresAt,
            absoluteExpiresAt: absoluteExpiresAt, userAgent: userAgent, ipAddress: ipAddress
        )
    }

    public func create(_ key: SessionStorageKey, _ session: StoredSession) async throws {
        var arguments = RedisCommand()
        arguments.append(prefix)
        arguments.append(key.hex)
        arguments.append(clock())
        arguments.append(session.createdAt)
        arguments.append(session.lastSeenAt)
        arguments.append(min(session.expiresAt, session.absoluteExpiresAt))
        arguments.append(session.absoluteExpiresAt)
        Self.appendOptional(session.userAgent, to: &arguments)
        Self.appendOptional(session.ipAddress, to: &arguments)
        Self.appendOptional(session.userID, to: &arguments)
        for (name, value) in session.values {
            arguments.append(prefix: "v:", name.utf8)
            arguments.append(bytes: value.jsonBytes)
        }
        let result = try await evaluate(.create, keys: sessionKeys(key, user: session.userID), arguments)
        if result == -1 { throw SessionStoreError(.alreadyExists, "a live session already has the key \(key)") }
    }

    public func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        // Writes to one session while another is on its way go as one batch behind it.
        if case .update(let set, let remove) = delta {
            return try await writeCoalescer.write(key, set: set, remove: remove, expiresAt: expiresAt) {
                try await self.send(delta, to: key, expiresAt: expiresAt)
            } batch: { set, remove, expiresAt in
                try await self.send(.update(set: set, remove: remove), to: key, expiresAt: expiresAt)
            }
        }
        return try await send(delta, to: key, expiresAt: expiresAt)
    }

    /// ``apply(_:to:expiresAt:)``'s `EVAL`.
    private func send(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        var user: String?
        switch delta {
        case .replaceAll(let values): user = StoredSession.userID(from: values[StoredSession.userIDKey])
        case .update(let set, _), .updateApplying(let set, _, _): user = set[StoredSession.userIDKey].flatMap(StoredSession.userID(from:))
        }
        var arguments = RedisCommand()
        arguments.append(prefix)
        arguments.append(key.hex)
        arguments.append(clock())
        arguments.append(expiresAt)
        switch delta {
        case .replaceAll(let values):
            arguments.append("r")
            Self.appendOptional(StoredSession.userID(from: values[StoredSession.userIDKey]), to: &arguments)
            Self.appendValues(values, to: &arguments)
        case .update(let set, let remove):
            arguments.append("u")
            Self.appendUserChange(set: set, remove: remove, to: &arguments)
            Self.appendValues(set, to: &arguments)
            for name in remove where set[name] == nil {
                arguments.append(prefix: "v:", name.utf8)
            }
        case .updateApplying(let set, let remove, let operations):
            try SessionOperationWire.check(operations)
            arguments.append("o")
            Self.appendUserChange(set: set, remove: remove, to: &arguments)
            Self.appendValues(set, to: &arguments)
            let removed = remove.filter { set[$0] == nil }
            arguments.append(Int64(removed.count))
            for name in removed {
                arguments.append(prefix: "v:", name.utf8)
            }
            for operation in operations {
                let (code, field, amount, value) = SessionOperationWire.parts(operation.kind)
                arguments.append(prefix: "v:", operation.key.utf8)
                arguments.append(code)
                arguments.append(field)
                arguments.append(Int64(amount))
                arguments.append(bytes: value)
            }
        }
        let script: Script = if case .updateApplying = delta { .applyOperations } else { .apply }
        return try await evaluate(script, keys: sessionKeys(key, user: user), arguments) == 1
    }

    /// The apply script's user argument for a delta: the new user (`1`+ID), none (`0`) when the
    /// delta removes it, or `-` when the delta leaves it alone.
    private static func appendUserChange(set: [String: SessionValue], remove: Set<String>, to arguments: inout RedisCommand) {
        if let value = set[StoredSession.userIDKey] {
            appendOptional(StoredSession.userID(from: value), to: &arguments)
        } else if remove.contains(StoredSession.userIDKey) {
            appendOptional(nil, to: &arguments)
        } else {
            arguments.append("-")
        }
    }

    public func touch(_ key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        var arguments = RedisCommand(prefix, key.hex)
        arguments.append(clock())
        arguments.append(expiresAt)
        return try await evaluate(.touch, keys: sessionKeys(key), arguments) == 1
    }

    public func delete(_ key: SessionStorageKey) async throws {
        _ = try await evaluate(.delete, keys: sessionKeys(key), RedisCommand(prefix, key.hex))
    }

    public func rename(_ old: SessionStorageKey, to new: SessionStorageKey) async throws -> Bool {
        var arguments = RedisCommand(prefix, old.hex)
        arguments.append(clock())
        arguments.append(new.hex)
        switch try await evaluate(.rename, keys: sessionKeys(old) + [sessionKey(new)], arguments) {
        case 1: return true
        case -1: throw SessionStoreError(.alreadyExists, "a live session already has the key \(new)")
        default: return false
        }
    }

    public func removeExpired() async throws -> Int {
        let batch = max(1, configuration.cleanupBatchSize)
        let now = clock()
        var removed = 0
        while true {
            var arguments = RedisCommand(prefix)
            arguments.append(batch)
            arguments.append(now)
            let count = Int(try await evaluate(.removeExpired, keys: [expiryKey, ownersKey], arguments))
            removed += count
            if count < batch { return removed }
            await Task.yield()
        }
    }

    // MARK: SessionUserIndex

    public func sessions(ofUser userID: String) async throws -> [UserSessionInfo] {
        var arguments = RedisCommand(prefix, userID)
        arguments.append(clock())
        let reply = try await evaluateReply(.sessions, keys: [userKey(userID), ownersKey], arguments)
        guard let items = reply.array, items.count % 7 == 0 else { throw Self.unexpected(reply) }
        var infos: [UserSessionInfo] = []
        infos.reserveCapacity(items.count / 7)
        var index = 0
        while index < items.count {
            guard let hex = items[index].string, let key = SessionStorageKey(hex: hex),
                let createdAt = items[index + 1].int64, let lastSeenAt = items[index + 2].int64,
                let expiresAt = items[index + 3].int64, let absoluteExpiresAt = items[index + 4].int64
            else { throw Self.corrupt }
            infos.append(UserSessionInfo(
                key: key, createdAt: createdAt, lastSeenAt: lastSeenAt, expiresAt: expiresAt,
                absoluteExpiresAt: absoluteExpiresAt, userAgent: items[index + 5].string, ipAddress: items[index + 6].string
            ))
            index += 7
        }
        // The set is ordered by creation; equal times by key, as the other stores list them.
        return infos.sorted { ($0.createdAt, $0.key.hex) < ($1.createdAt, $1.key.hex) }
    }

    public func revokeSessions(ofUser userID: String, except: SessionStorageKey?) async throws -> Int {
        var arguments = RedisCommand(prefix, userID)
        arguments.append(clock())
        arguments.append(except?.hex ?? "")
        return Int(try await evaluate(.revoke, keys: [userKey(userID), ownersKey, expiryKey], arguments))
    }

    // MARK: Helpers

    /// `"v:"` as the first two bytes of a value field, read as a big-endian `UInt16`.
    private static let valuePrefix = UInt16(UInt8(ascii: "v")) << 8 | UInt16(UInt8(ascii: ":"))

    private func sessionKey(_ key: SessionStorageKey) -> String { "\(prefix):s:\(key.hex)" }
    private func userKey(_ user: String) -> String { "\(prefix):u:\(user)" }
    private var ownersKey: String { "\(prefix):owners" }
    private var expiryKey: String { "\(prefix):expiry" }

    /// The keys a script on one session names (`KEYS`): its hash, the indexes, and the index of the
    /// user it sets. The scripts compute the same names from the prefix; naming them lets Redis
    /// Cluster route the script and hold it back while the slot's keys are split by a migration.
    private func sessionKeys(_ key: SessionStorageKey, user: String? = nil) -> [String] {
        var keys = [sessionKey(key), ownersKey, expiryKey]
        if let user { keys.append(userKey(user)) }
        return keys
    }

    private static func appendOptional(_ string: String?, to command: inout RedisCommand) {
        command.append(string.map { "1" + $0 } ?? "0")
    }

    /// The number of pairs, then each value as its field (`v:` + name) and its JSON text.
    private static func appendValues(_ values: [String: SessionValue], to command: inout RedisCommand) {
        command.append(values.count)
        for (name, value) in values {
            command.append(prefix: "v:", name.utf8)
            command.append(bytes: value.jsonBytes)
        }
    }

    /// Runs a script that answers with an integer.
    private func evaluate(_ script: Script, keys: [String], _ arguments: RedisCommand) async throws -> Int64 {
        let reply = try await evaluateReply(script, keys: keys, arguments)
        guard case .integer(let value) = reply else { throw Self.unexpected(reply) }
        return value
    }

    /// Runs a script by its digest (`EVALSHA sha numkeys keys... arguments...`), loading it first
    /// when its digest is not known yet. A node that does not have it (a new or restarted server,
    /// `SCRIPT FLUSH`, or another node of a cluster) gets the source with `EVAL`, which also caches it.
    /// `keys` (all with the prefix, one slot) route the script in a cluster; `arguments` start with the prefix.
    func evaluateReply(_ script: Script, keys: [String], _ arguments: RedisCommand) async throws -> RESPValue {
        let route = keys.first ?? expiryKey
        let digest: String
        if let known = scriptDigests.withLock({ $0[script.rawValue] }) {
            digest = known
        } else {
            digest = try await load(script, route: route)
        }
        var reply = try await send(Self.scriptCommand("EVALSHA", digest, keys: keys, arguments), key: route, isScript: true)
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            reply = try await send(Self.scriptCommand("EVAL", source(of: script), keys: keys, arguments), key: route, isScript: true)
        }
        if case .error = reply { throw Self.unexpected(reply) }
        return reply
    }

    /// `script`'s Lua for this store's backend.
    private func source(of script: Script) -> String {
        script.source(cluster: clusterClient != nil)
    }

    private static func scriptCommand(_ name: String, _ script: String, keys: [String], _ arguments: RedisCommand) -> RedisCommand {
        var command = RedisCommand(name, script)
        command.append(keys.count)
        for key in keys { command.append(key) }
        command.append(contentsOf: arguments)
        return command
    }

    private func load(_ script: Script, route: String) async throws -> String {
        let reply = try await send(RedisCommand("SCRIPT", "LOAD", source(of: script)), key: route)
        guard let digest = reply.string, case .bulkString = reply else { throw Self.unexpected(reply) }
        scriptDigests.withLock { $0[script.rawValue] = digest }
        return digest
    }

    /// Sends a command (in a cluster, to the master of `key`'s slot), mapping every client failure
    /// to ``/SessionKit/SessionStoreError/Code/unavailable``. In a cluster, scripts wait out a migrating slot
    /// rather than follow `ASK`: their undeclared keys (a previous owner's index, the sessions
    /// behind an index) may not have moved yet. Plain commands (one key) follow `ASK`.
    func send(_ command: RedisCommand, key: String, isScript: Bool = false) async throws -> RESPValue {
        do {
            switch backend {
            case .server(let pool):
                return try await pool.send(command)
            case .cluster(let client):
                guard prefix.count > 2 else {
                    throw SessionStoreError(.unavailable, "Redis session store: Redis Cluster needs a non-empty key prefix (it is the hash tag)")
                }
                return try await client.send(command, key: key, followAsk: !isScript)
            }
        } catch let error as RedisClientError {
            logger.debug("Redis command failed", metadata: ["error": "\(error.message)"])
            throw SessionStoreError(.unavailable, "Redis session store: \(error.message)")
        } catch let error as SessionStoreError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw SessionStoreError(.unavailable, "Redis session store: \(error)")
        }
    }

    private static func unexpected(_ reply: RESPValue) -> SessionStoreError {
        if case .error(let message) = reply {
            return SessionStoreError(.unavailable, "Redis session store: the server answered \(message.prefix(200))")
        }
        return SessionStoreError(.unavailable, "Redis session store: unexpected reply from the server")
    }

    private static var corrupt: SessionStoreError {
        SessionStoreError(.corruptRecord, "a stored Redis session could not be read")
    }

    private static func integer(_ buffer: ByteBuffer) -> Int64? { Int64(String(buffer: buffer)) }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
