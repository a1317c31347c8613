import Foundation
import NIOCore
import SessionKit
import SessionKitRedis
import SessionKitTesting
import Synchronization
import Testing

/// The Redis Cluster the cluster tests use: `SESSIONKIT_REDIS_CLUSTER_URL` (`scripts/redis-cluster
/// start` prints it). Every store gets a prefix of its own, so its keys are in a slot of their own.
enum RedisClusterTestServer {
    static let url = ProcessInfo.processInfo.environment["SESSIONKIT_REDIS_CLUSTER_URL"]

    /// The trait of every test that needs the cluster.
    static let enabled = Testing.ConditionTrait.enabled(
        if: url != nil,
        "SESSIONKIT_REDIS_CLUSTER_URL is not set: run `eval \"$(scripts/redis-cluster start)\"; export SESSIONKIT_REDIS_CLUSTER_URL`"
    )

    static func configuration(prefix: String) throws -> RedisSessionStoreConfiguration {
        var configuration = try RedisSessionStoreConfiguration(url: url ?? "redis://127.0.0.1:7000/0?cluster=1", keyPrefix: prefix)
        configuration.poolSize = 2
        // Patient under a sanitizer (TestTimeScale): the suite's Redis load on a loaded two-core
        // machine outlasted the 5 s defaults (`scripts/test --sanitize address`, 2026-12-05).
        configuration.connectTimeout = TestTimeScale.limit(configuration.connectTimeout)
        configuration.commandTimeout = TestTimeScale.limit(configuration.commandTimeout)
        return configuration
    }

    /// The nodes the URL names (`scripts/redis-cluster` names every master).
    static var nodes: [RedisClusterNode] {
        (try? configuration(prefix: "x").clusterNodes) ?? []
    }

    /// A raw connection to one node, for looking behind the store and for moving slots.
    static func connection(_ node: RedisClusterNode) async throws -> RedisConnection {
        try await RedisConnection.connect(to: .init(host: node.host, port: node.port, commandTimeout: .seconds(10))).get()
    }

    /// The cluster's slot map, as the store's client reads it.
    static func slotMap() async throws -> RedisClusterSlotMap {
        let connection = try await connection(nodes[0])
        defer { connection.close() }
        return try RedisClusterSlotMap(shards: try await connection.send(RedisCommand("CLUSTER", "SHARDS")), tls: false)
    }

    /// Every key of `keyBase` (`{prefix}`) on every node.
    static func keys(_ keyBase: String) async throws -> [String] {
        var keys: [String] = []
        for node in nodes {
            let connection = try await connection(node)
            defer { connection.close() }
            var cursor = "0"
            for _ in 0..<10_000 {
                let reply = try await connection.send(RedisCommand("SCAN", cursor, "MATCH", "\(keyBase):*", "COUNT", "1000"))
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let batch = parts[1].array else {
                    throw SessionStoreError(.unavailable, "unexpected SCAN reply \(reply)")
                }
                keys += batch.compactMap(\.string)
                cursor = next
                if cursor == "0" { break }
            }
        }
        return keys
    }

    /// Deletes every key of `keyBase`, on the node that holds it.
    static func deleteKeys(_ keyBase: String) async throws {
        let keys = try await keys(keyBase)
        guard !keys.isEmpty else { return }
        let map = try await slotMap()
        guard let node = map.node(forSlot: RedisClusterSlot.of(keyBase)) else { return }
        let connection = try await connection(node)
        defer { connection.close() }
        for key in keys { _ = try await connection.send(RedisCommand("DEL", key)) }
    }
}

/// Cluster stores made during a test: closed, and their keys deleted, at its end.
final class RedisClusterTestStores: Sendable {
    private let stores = Mutex<[RedisSessionStore]>([])
    let prefix = "sktest-\(UUID().uuidString)"

    func make(prefix: String? = nil, clock: @escaping @Sendable () -> Int64 = SessionClock.system) throws -> RedisSessionStore {
        let store = RedisSessionStore(configuration: try RedisClusterTestServer.configuration(prefix: prefix ?? self.prefix), clock: clock)
        stores.withLock { $0.append(store) }
        return store
    }

    func finish() async throws {
        let stores = stores.withLock { $0 }
        for store in stores { store.close() }
        for keyBase in Set(stores.map(\.keyBase)) { try await RedisClusterTestServer.deleteKeys(keyBase) }
    }

    static func with(_ body: (RedisClusterTestStores) async throws -> Void) async throws {
        let stores = RedisClusterTestStores()
        do {
            try await body(stores)
        } catch {
            try? await stores.finish()
            throw error
        }
        try await stores.finish()
    }
}
