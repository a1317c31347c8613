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
/// (``SessionUserIndex``). Only hashes of session IDs reach Redis.
///
/// The store speaks RESP2 itself over a few pipelined connections (opened on first use, replaced
/// when they break); a server that cannot be reached, or does not answer within
/// ``RedisSessionStoreConfiguration/commandTimeout``, gives ``SessionStoreError/Code/unavailable``.
/// Run it as a `Service` to remove expired sessions from the indexes periodically and to close the
/// connections on graceful shutdown. Scripts use keys they compute, so use a single Redis server
/// (or a primary with replicas), not Redis Cluster.
///
/// ```swift
/// let store = RedisSessionStore(configuration: .init(host: "127.0.0.1", port: 6379, keyPrefix: "myapp:sessions"))
/// try await store.ping()                                           // fail early when Redis is down
/// let group = ServiceGroup(configuration: .init(services: [app, store], logger: logger))
/// try await group.run()                                            // cleanup; closes on shutdown
/// ```
public final class RedisSessionStore: SessionUserIndex, Service {
    enum Script: Int, CaseIterable, Sendable {
        case create, apply, touch, delete, rename, removeExpired, sessions, revoke

        var source: String {
            switch self {
            case .create: RedisSessionScripts.create
            case .apply: RedisSessionScripts.apply
            case .touch: RedisSessionScripts.touch
            case .delete: RedisSessionScripts.delete
            case .rename: RedisSessionScripts.rename
            case .removeExpired: RedisSessionScripts.removeExpired
            case .sessions: RedisSessionScripts.sessions
            case .revoke: RedisSessionScripts.revoke
            }
        }
    }

    /// The settings the store was made with.
    public let configuration: RedisSessionStoreConfiguration
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    private let pool: RedisConnectionPool
    /// SHA-1 digests of the loaded scripts, by ``Script`` raw value.
    private let scriptDigests = Mutex<[Int: String]>([:])
    private let prefix: String

    /// A store on the Redis server `configuration` names; nothing connects until first use.
    public init(
        configuration: RedisSessionStoreConfiguration,
        clock: @escaping @Sendable () -> Int64 = systemSessionClock,
        logger: Logger = Logger(label: "SessionKit.RedisSessionStore")
    ) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.prefix = configuration.keyPrefix
        self.pool = RedisConnectionPool(
            options: RedisConnection.Options(
                host: configuration.host, port: configuration.port, username: configuration.username,
                password: configuration.password, database: configuration.database,
                connectTimeout: Self.timeAmount(configuration.connectTimeout),
                commandTimeout: Self.timeAmount(configuration.commandTimeout),
                clientName: configuration.clientName, tls: configuration.tls
            ),
            size: configuration.poolSize
        )
    }

    // MARK: Lifecycle

    /// Checks that Redis answers (`PING`); throws ``SessionStoreError/Code/unavailable`` when it does not.
    public func ping() async throws {
        let reply = try await send(RedisCommand("PING"))
        guard case .simpleString = reply else { throw Self.unexpected(reply) }
    }

    /// Closes every connection; later calls throw ``SessionStoreError/Code/unavailable``.
    public func close() {
        pool.close()
    }

    /// Removes expired sessions from the indexes every ``RedisSessionStoreConfiguration/cleanupInterval``
    /// until graceful shutdown or cancellation, then closes the connections.
    public func run() async throws {
        try await SessionStoreCleanupService(store: self, interval: configuration.cleanupInterval, logger: logger).run()
        close()
    }

    // MARK: SessionStore

    public func load(_ key: SessionStorageKey) async throws -> StoredSession? {
        var command = RedisCommand("HGETALL")
        command.append(sessionKey(key))
        let reply = try await send(command)
        guard let fields = reply.array else { throw Self.unexpected(reply) }
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
        guard expiresAt > clock() else { return nil }
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
        let result = try await evaluate(.create, arguments)
        if result == -1 { throw SessionStoreError(.alreadyExists, "a live session already has the key \(key)") }
    }

    public func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
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
            if let value = set[StoredSession.userIDKey] {
                Self.appendOptional(StoredSession.userID(from: value), to: &arguments)
            } else if remove.contains(StoredSession.userIDKey) {
                Self.appendOptional(nil, to: &arguments)
            } else {
                arguments.append("-")
            }
            Self.appendValues(set, to: &arguments)
            for name in remove where set[name] == nil {
                arguments.append(prefix: "v:", name.utf8)
            }
        case .updateApplying(let set, let remove, let operations):
            try SessionOperationWire.check(operations)
            arguments.append("o")
            if let value = set[StoredSession.userIDKey] {
                Self.appendOptional(StoredSession.userID(from: value), to: &arguments)
            } else if remove.contains(StoredSession.userIDKey) {
                Self.appendOptional(nil, to: &arguments)
            } else {
                arguments.append("-")
            }
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
        return try await evaluate(.apply, arguments) == 1
    }

    public func touch(_ key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        var arguments = RedisCommand(prefix, key.hex)
        arguments.append(clock())
        arguments.append(expiresAt)
        return try await evaluate(.touch, arguments) == 1
    }

    public func delete(_ key: SessionStorageKey) async throws {
        _ = try await evaluate(.delete, RedisCommand(prefix, key.hex))
    }

    public func rename(_ old: SessionStorageKey, to new: SessionStorageKey) async throws -> Bool {
        var arguments = RedisCommand(prefix, old.hex)
        arguments.append(clock())
        arguments.append(new.hex)
        switch try await evaluate(.rename, arguments) {
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
            let count = Int(try await evaluate(.removeExpired, arguments))
            removed += count
            if count < batch { return removed }
            await Task.yield()
        }
    }

    // MARK: SessionUserIndex

    public func sessions(ofUser userID: String) async throws -> [UserSessionInfo] {
        var arguments = RedisCommand(prefix, userID)
        arguments.append(clock())
        let reply = try await evaluateReply(.sessions, arguments)
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
        return Int(try await evaluate(.revoke, arguments))
    }

    // MARK: Helpers

    /// `"v:"` as the first two bytes of a value field, read as a big-endian `UInt16`.
    private static let valuePrefix = UInt16(UInt8(ascii: "v")) << 8 | UInt16(UInt8(ascii: ":"))

    private func sessionKey(_ key: SessionStorageKey) -> String { "\(prefix):s:\(key.hex)" }

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
    private func evaluate(_ script: Script, _ arguments: RedisCommand) async throws -> Int64 {
        let reply = try await evaluateReply(script, arguments)
        guard case .integer(let value) = reply else { throw Self.unexpected(reply) }
        return value
    }

    /// Runs a script by its digest, loading it first when the server does not know it (a new or
    /// restarted server, or `SCRIPT FLUSH`).
    func evaluateReply(_ script: Script, _ arguments: RedisCommand) async throws -> RESPValue {
        for attempt in 0..<2 {
            let digest: String
            if attempt == 0, let known = scriptDigests.withLock({ $0[script.rawValue] }) {
                digest = known
            } else {
                digest = try await load(script)
            }
            var command = RedisCommand("EVALSHA", digest, "0")
            command.append(contentsOf: arguments)
            let reply = try await send(command)
            if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") { continue }
            if case .error = reply { throw Self.unexpected(reply) }
            return reply
        }
        throw SessionStoreError(.unavailable, "Redis session store: the server keeps forgetting its scripts")
    }

    private func load(_ script: Script) async throws -> String {
        let reply = try await send(RedisCommand("SCRIPT", "LOAD", script.source))
        guard let digest = reply.string, case .bulkString = reply else { throw Self.unexpected(reply) }
        scriptDigests.withLock { $0[script.rawValue] = digest }
        return digest
    }

    /// Sends a command, mapping every client failure to ``SessionStoreError/Code/unavailable``.
    func send(_ command: RedisCommand) async throws -> RESPValue {
        do {
            return try await pool.send(command)
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
