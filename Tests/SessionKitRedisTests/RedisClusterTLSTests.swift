import Foundation
import NIOCore
import SessionKit
import SessionKitRedis
import SessionKitTesting
import Synchronization
import Testing

/// The store on a Redis Cluster that speaks only TLS to its clients' URL ports and lets in only an
/// ACL user (`scripts/redis-cluster-tls start`): the contract, nodes found through `CLUSTER SHARDS`
/// reached on their TLS ports with the same user and password, and the mistakes said plainly.
@Suite(
    "RedisSessionStore on a Redis Cluster over TLS with an ACL user",
    .enabled(
        if: ProcessInfo.processInfo.environment["SESSIONKIT_REDIS_CLUSTER_TLS_URL"] != nil,
        "SESSIONKIT_REDIS_CLUSTER_TLS_URL is not set: run `eval \"$(scripts/redis-cluster-tls start)\"` and export it (scripts/test does)"
    )
)
struct RedisClusterTLSTests {
    static let url = ProcessInfo.processInfo.environment["SESSIONKIT_REDIS_CLUSTER_TLS_URL"] ?? "rediss://u:p@127.0.0.1:1/0?cluster=1"

    static func configuration(url: String = url, prefix: String = "sktest-\(UUID().uuidString)") throws -> RedisSessionStoreConfiguration {
        var configuration = try RedisSessionStoreConfiguration(url: url, keyPrefix: prefix)
        configuration.poolSize = 2
        // Patient under a sanitizer (TestTimeScale): the suite's Redis load on a loaded two-core
        // machine outlasted the 5 s defaults (`scripts/test --sanitize address`, 2026-12-05).
        configuration.connectTimeout = TestTimeScale.limit(configuration.connectTimeout)
        configuration.commandTimeout = TestTimeScale.limit(configuration.commandTimeout)
        return configuration
    }

    /// The URL's own settings with `nodes` in place of its node list.
    static func url(naming nodes: ArraySlice<RedisClusterNode>, password: String? = nil) throws -> String {
        let configuration = try configuration()
        let hosts = nodes.map { "\($0.host):\($0.port)" }.joined(separator: ",")
        let user = configuration.username ?? ""
        let query = url.split(separator: "?", maxSplits: 1).last.map(String.init) ?? ""
        return "rediss://\(user):\(password ?? configuration.password ?? "")@\(hosts)/0?\(query)"
    }

    /// A connection to one node's TLS port as the ACL user.
    static func connection(_ node: RedisClusterNode) async throws -> RedisConnection {
        let configuration = try configuration()
        return try await RedisConnection.connect(to: .init(
            host: node.host, port: node.port, username: configuration.username, password: configuration.password,
            commandTimeout: .seconds(10), tls: configuration.tls
        )).get()
    }

    static func withStore(url: String = url, prefix: String = "sktest-\(UUID().uuidString)", _ body: (RedisSessionStore) async throws -> Void) async throws {
        let store = RedisSessionStore(configuration: try configuration(url: url, prefix: prefix))
        defer { store.close() }
        do {
            try await body(store)
        } catch {
            try? await deleteKeys(of: store)
            throw error
        }
        try await deleteKeys(of: store)
    }

    static func deleteKeys(of store: RedisSessionStore) async throws {
        let nodes = try configuration().clusterNodes
        let first = try await connection(nodes[0])
        let map = try RedisClusterSlotMap(shards: try await first.send(RedisCommand("CLUSTER", "SHARDS")), tls: true)
        first.close()
        let tag = String(store.keyBase.dropFirst().dropLast())
        guard let owner = map.node(forSlot: RedisClusterSlot.of(tag)) else { return }
        let connection = try await connection(owner)
        defer { connection.close() }
        let reply = try await connection.send(RedisCommand("KEYS", "\(store.keyBase):*"))
        for key in reply.array?.compactMap(\.string) ?? [] { _ = try await connection.send(RedisCommand("DEL", key)) }
    }

    static func session(_ now: Int64, user: String) -> StoredSession {
        StoredSession(
            values: [StoredSession.userIDKey: SessionValue(flask: .string(user)), "n": SessionValue(json: Array("1".utf8))],
            createdAt: now, expiresAt: now + 1800, absoluteExpiresAt: now + 86_400
        )
    }

    @Test(arguments: SessionStoreContract.allChecks)
    func contract(_ check: SessionStoreContractCheck) async throws {
        let stores = RedisClusterTLSStores()
        defer { stores.closeAll() }
        try await check.run { clock in try stores.make(clock: clock) }
        for store in stores.all { try await Self.deleteKeys(of: store) }
    }

    /// Given only the first node, the store finds the others through `CLUSTER SHARDS` and reaches
    /// each on its TLS port as the ACL user: a session lands on every master.
    @Test func nodesFoundThroughTheSlotMapAreReachedOverTLSAsTheUser() async throws {
        let nodes = try Self.configuration().clusterNodes
        #expect(nodes.count == 3)
        let first = try await Self.connection(nodes[0])
        let map = try RedisClusterSlotMap(shards: try await first.send(RedisCommand("CLUSTER", "SHARDS")), tls: true)
        first.close()
        // The map names the TLS ports (the URL's), not the plain ones.
        #expect(Set(map.nodes) == Set(nodes))
        // A prefix for each master.
        var prefixes: [RedisClusterNode: String] = [:]
        while prefixes.count < nodes.count {
            let prefix = "sktest-\(UUID().uuidString)"
            if let owner = map.node(forSlot: RedisClusterSlot.of(prefix)), prefixes[owner] == nil { prefixes[owner] = prefix }
        }
        let onlyTheFirst = try Self.url(naming: nodes.prefix(1))
        for (owner, prefix) in prefixes {
            try await Self.withStore(url: onlyTheFirst, prefix: prefix) { store in
                let key = SessionID().storageKey
                let now = SessionClock.system()
                try await store.create(key, Self.session(now, user: "tls-user"))
                #expect(try await store.load(key)?.values[StoredSession.userIDKey] != nil)
                #expect(try await store.apply(.updateApplying(set: [:], remove: [], operations: [SessionOperation(key: "n", kind: .increment(by: 2))]), to: key, expiresAt: now + 1800))
                #expect(try await store.load(key)?.values["n"].flatMap { try? $0.flaskValue() } == .int(3))
                #expect(try await store.sessions(ofUser: "tls-user").map(\.key) == [key])
                // The record is on the master the map names, read over TLS as the user.
                let connection = try await Self.connection(owner)
                defer { connection.close() }
                #expect(try await connection.send(RedisCommand("EXISTS", "\(store.keyBase):s:\(key.hex)")) == .integer(1))
            }
        }
    }

    @Test func aWrongPasswordIsRefusedWithoutShowingIt() async throws {
        let wrong = "not-the-password-\(UUID().uuidString)"
        let configuration = try Self.configuration(url: try Self.url(naming: try Self.configuration().clusterNodes[...], password: wrong))
        let store = RedisSessionStore(configuration: configuration)
        defer { store.close() }
        let error = await #expect(throws: SessionStoreError.self) { try await store.ping() }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains(wrong) == false)
        #expect(!"\(configuration)".contains(wrong))
    }

    @Test func plainTextToTheTLSPortsIsRefusedClearly() async throws {
        let tlsURL = try Self.url(naming: try Self.configuration().clusterNodes[...])
        let plain = "redis://" + tlsURL.dropFirst("rediss://".count).split(separator: "?")[0] + "?cluster=1"
        let store = RedisSessionStore(configuration: try Self.configuration(url: plain))
        defer { store.close() }
        let error = await #expect(throws: SessionStoreError.self) { try await store.ping() }
        #expect(error?.code == .unavailable)
    }
}

/// The stores one contract check makes, each with a prefix of its own.
final class RedisClusterTLSStores: Sendable {
    private let stores = Mutex<[RedisSessionStore]>([])

    var all: [RedisSessionStore] { stores.withLock { $0 } }

    func make(clock: @escaping @Sendable () -> Int64) throws -> RedisSessionStore {
        let store = RedisSessionStore(configuration: try RedisClusterTLSTests.configuration(), clock: clock)
        stores.withLock { $0.append(store) }
        return store
    }

    func closeAll() { for store in all { store.close() } }
}
