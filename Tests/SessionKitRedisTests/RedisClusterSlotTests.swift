import NIOCore
import SessionKit
import SessionKitRedis
import Testing

@Suite("Redis Cluster slots")
struct RedisClusterSlotTests {
    /// Values from Redis's `CLUSTER KEYSLOT` (and the cluster specification's CRC16 check value).
    static let known: [(String, Int)] = [
        ("123456789", 12739), ("foo", 12182), ("{sessionkit}:expiry", 12625), ("sessionkit", 12625),
        ("{user1000}.following", 3443), ("{user1000}.followers", 3443), ("foo{}{bar}", 8363),
        ("foo{{bar}}zap", 4015), ("foo{bar}{zap}", 5061), ("", 0),
    ]

    @Test func crc16CheckValue() {
        #expect(RedisClusterSlot.crc16(Array("123456789".utf8)) == 0x31C3)
    }

    @Test(arguments: known)
    func slotOfKnownKeys(_ key: String, _ slot: Int) {
        #expect(RedisClusterSlot.of(key) == slot)
    }

    @Test func oneSlotPerPrefix() {
        let prefix = "myapp"
        let keys = ["{myapp}:s:\(String(repeating: "ab", count: 32))", "{myapp}:u:alice", "{myapp}:u:bob", "{myapp}:owners", "{myapp}:expiry"]
        #expect(Set(keys.map(RedisClusterSlot.of)) == [RedisClusterSlot.of(prefix)])
    }

    @Test func slotMapFromShardsAndSlots() throws {
        func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }
        func node(_ port: Int64, _ role: String) -> RESPValue {
            .array([bulk("id"), bulk("x"), bulk("port"), .integer(port), bulk("ip"), bulk("127.0.0.1"),
                    bulk("endpoint"), bulk("127.0.0.1"), bulk("role"), bulk(role), bulk("health"), bulk("online")])
        }
        let shards: RESPValue = .array([
            .array([bulk("slots"), .array([.integer(0), .integer(99), .integer(200), .integer(16383)]),
                    bulk("nodes"), .array([node(7001, "replica"), node(7000, "master")])]),
            .array([bulk("slots"), .array([.integer(100), .integer(199)]), bulk("nodes"), .array([node(7002, "master")])]),
        ])
        let map = try RedisClusterSlotMap(shards: shards, tls: false)
        #expect(map.node(forSlot: 0) == RedisClusterNode(host: "127.0.0.1", port: 7000))
        #expect(map.node(forSlot: 150) == RedisClusterNode(host: "127.0.0.1", port: 7002))
        #expect(map.node(forSlot: 16383) == RedisClusterNode(host: "127.0.0.1", port: 7000))
        #expect(map.coveredSlots == 16384)
        let slots: RESPValue = .array([
            .array([.integer(0), .integer(8191), .array([bulk(""), .integer(7000), bulk("a")])]),
            .array([.integer(8192), .integer(16383), .array([bulk("10.0.0.2"), .integer(7001), bulk("b")])]),
        ])
        let old = try RedisClusterSlotMap(slots: slots, answeredBy: RedisClusterNode(host: "10.0.0.1", port: 7000))
        #expect(old.node(forSlot: 8191) == RedisClusterNode(host: "10.0.0.1", port: 7000))
        #expect(old.node(forSlot: 8192) == RedisClusterNode(host: "10.0.0.2", port: 7001))
        #expect(throws: (any Error).self) { _ = try RedisClusterSlotMap(shards: .integer(1), tls: false) }
    }

    @Test func parsesClusterURLs() throws {
        let url = "redis://app:p%40ss@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002/0?cluster=1"
        let configuration = try RedisSessionStoreConfiguration(url: url, keyPrefix: "myapp")
        #expect(configuration.clusterNodes == [
            RedisClusterNode(host: "10.0.0.1", port: 7000), RedisClusterNode(host: "10.0.0.2", port: 7001),
            RedisClusterNode(host: "::1", port: 7002),
        ])
        #expect(configuration.username == "app" && configuration.password == "p@ss" && configuration.database == 0)
        let one = try RedisSessionStoreConfiguration(url: "rediss://:secret@redis.internal:7000?cluster=true&ca=/etc/ca.pem")
        #expect(one.clusterNodes == [RedisClusterNode(host: "redis.internal", port: 7000)])
        #expect(one.tls?.caFile == "/etc/ca.pem" && one.password == "secret")
        let defaultPort = try RedisSessionStoreConfiguration(url: "redis://a,b:7001?cluster=1")
        #expect(defaultPort.clusterNodes == [RedisClusterNode(host: "a", port: 6379), RedisClusterNode(host: "b", port: 7001)])
        // Standalone URLs keep no cluster nodes.
        #expect(try RedisSessionStoreConfiguration(url: "redis://127.0.0.1:6379/2").clusterNodes.isEmpty)
        #expect(try RedisSessionStoreConfiguration(url: "redis://127.0.0.1:6379/0?cluster=0").clusterNodes.isEmpty)
        for bad in ["redis://a:1,b:2/0", "redis://a:1,b:2/3?cluster=1", "redis://a:1,/0?cluster=1", "redis://a:1?cluster=maybe", "redis://a:1,b:x?cluster=1"] {
            #expect(throws: SessionStoreError.self, "\(bad)") { _ = try RedisSessionStoreConfiguration(url: bad) }
        }
    }
}

@Suite("Redis Cluster slots on a real cluster", RedisClusterTestServer.enabled)
struct RedisClusterKeySlotTests {
    @Test func matchesClusterKeyslot() async throws {
        let connection = try await RedisClusterTestServer.connection(RedisClusterTestServer.nodes[0])
        defer { connection.close() }
        let keys = RedisClusterSlotTests.known.map(\.0) + ["{sktest}:s:" + String(repeating: "f", count: 64), "ü/🎉", "a{b}c", "{}x", "}{"]
        for key in keys {
            let slot = try await connection.send(RedisCommand("CLUSTER", "KEYSLOT", key)).int64
            #expect(slot.map(Int.init) == RedisClusterSlot.of(key), "\(key)")
        }
    }
}
