import Foundation
import NIOCore
import SessionKit
import SessionKitRedis
import SessionKitTesting
import Synchronization
import Testing

@Suite("RedisSessionStore on Redis Cluster", RedisClusterTestServer.enabled)
struct RedisClusterStoreTests {
    static func session(_ now: Int64, user: String? = nil, values: [String: SessionValue] = [:]) -> StoredSession {
        var values = values
        values["n"] = SessionValue(json: Array("1".utf8))
        if let user { values[StoredSession.userIDKey] = SessionValue(flask: .string(user)) }
        return StoredSession(values: values, createdAt: now, expiresAt: now + 1800, absoluteExpiresAt: now + 86_400)
    }

    static func json(_ text: String) -> SessionValue { SessionValue(json: Array(text.utf8)) }

    @Test(arguments: SessionStoreContract.allChecks)
    func contract(_ check: SessionStoreContractCheck) async throws {
        try await RedisClusterTestStores.with { stores in
            // A prefix per store, so a slot per store: the contract's stores land on different masters.
            try await check.run { clock in try stores.make(prefix: "sktest-\(UUID().uuidString)", clock: clock) }
        }
    }

    @Test func everyKeyCarriesThePrefixAsHashTag() async throws {
        try await RedisClusterTestStores.with { stores in
            let store = try stores.make()
            #expect(store.keyBase == "{\(stores.prefix)}")
            let key = SessionID().storageKey
            let now = SessionClock.system()
            try await store.create(key, Self.session(now, user: "alice"))
            let keys = Set(try await RedisClusterTestServer.keys(store.keyBase))
            let base = store.keyBase
            #expect(keys == ["\(base):s:\(key.hex)", "\(base):u:alice", "\(base):owners", "\(base):expiry"])
            #expect(Set(keys.map(RedisClusterSlot.of)) == [RedisClusterSlot.of(stores.prefix)])
            // All on the one master the map names for the prefix's slot.
            let map = try await RedisClusterTestServer.slotMap()
            let owner = try #require(map.node(forSlot: RedisClusterSlot.of(stores.prefix)))
            let connection = try await RedisClusterTestServer.connection(owner)
            defer { connection.close() }
            for key in keys { #expect(try await connection.send(RedisCommand("EXISTS", key)) == .integer(1)) }
            // Sign out everywhere and rename: atomic scripts in one slot.
            let second = SessionID().storageKey
            try await store.create(second, Self.session(now, user: "alice"))
            let renamed = SessionID().storageKey
            #expect(try await store.rename(second, to: renamed))
            #expect(Set(try await store.sessions(ofUser: "alice").map(\.key)) == [key, renamed])
            #expect(try await store.revokeSessions(ofUser: "alice", except: key) == 1)
            #expect(try await store.load(renamed) == nil)
            #expect(try await store.load(key) != nil)
            try await store.ping()
        }
    }

    @Test func followsMovedFromAWrongSlotMap() async throws {
        try await RedisClusterTestStores.with { stores in
            let store = try stores.make()
            let client = try #require(store.clusterClient)
            let map = try await RedisClusterTestServer.slotMap()
            let slot = RedisClusterSlot.of(stores.prefix)
            let owner = try #require(map.node(forSlot: slot))
            let other = try #require(map.nodes.first { $0 != owner })
            // Every slot on a node that does not serve this prefix's slot.
            var wrong = RedisClusterSlotMap()
            wrong.assign(0...(RedisClusterSlot.count - 1), to: other)
            client.install(wrong)
            let key = SessionID().storageKey
            let now = SessionClock.system()
            try await store.create(key, Self.session(now, user: "bob"))
            let moved = client.statistics.moved
            #expect(moved >= 1)
            // The map was corrected (the slot, then a full refresh): no more MOVED for this prefix.
            #expect(try await store.apply(.update(set: ["x": Self.json("2")], remove: []), to: key, expiresAt: now + 1800))
            #expect(try await store.load(key)?.values["x"] == Self.json("2"))
            #expect(client.slotMap?.node(forSlot: slot) == owner)
            for _ in 0..<100 where client.statistics.refreshes == 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(client.statistics.refreshes >= 1)
            #expect(client.slotMap?.coveredSlots == RedisClusterSlot.count)
            let before = client.statistics.moved
            _ = try await store.load(key)
            #expect(client.statistics.moved == before)
            print("MOVED from a wrong map: \(moved) redirection(s), then \(client.statistics.refreshes) refresh(es)")
        }
    }

    @Test func anUnreachableClusterIsUnavailable() async throws {
        // A seed nothing listens on: the store cannot learn the map.
        var configuration = try RedisClusterTestServer.configuration(prefix: "sktest-down")
        configuration.clusterNodes = [RedisClusterNode(host: "127.0.0.1", port: 1)]
        configuration.connectTimeout = .milliseconds(500)
        let store = RedisSessionStore(configuration: configuration)
        defer { store.close() }
        await #expect(throws: SessionStoreError.self) { _ = try await store.load(SessionID().storageKey) }
        do {
            try await store.ping()
        } catch let error as SessionStoreError {
            #expect(error.code == .unavailable)
        }
        // An empty prefix would be no hash tag at all: refused.
        var empty = try RedisClusterTestServer.configuration(prefix: "")
        empty.keyPrefix = ""
        let unprefixed = RedisSessionStore(configuration: empty)
        defer { unprefixed.close() }
        await #expect(throws: SessionStoreError.self) { _ = try await unprefixed.load(SessionID().storageKey) }
    }

    @Test func reshardingWhileRequestsRun() async throws {
        try await RedisClusterTestStores.with { stores in
            let store = try stores.make()
            let client = try #require(store.clusterClient)
            let slot = RedisClusterSlot.of(stores.prefix)
            let map = try await RedisClusterTestServer.slotMap()
            let source = try #require(map.node(forSlot: slot))
            let target = try #require(map.nodes.first { $0 != source })
            // Some sessions before the move, so the slot has keys to migrate.
            let now = SessionClock.system()
            let log = ReshardingLog()
            for index in 0..<60 {
                let key = SessionID().storageKey
                let user = index % 3 == 0 ? "user\(index % 4)" : nil
                try await store.create(key, Self.session(now, user: user))
                #expect(try await store.apply(.update(set: ["v": Self.json("\(index)")], remove: []), to: key, expiresAt: now + 1800))
                log.created.withLock { $0.append((key, "\(index)", user)) }
            }
            let migration = try await withThrowingTaskGroup(of: String?.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var round = 0
                        // Bounded: until the migrations are done, and at most 20 s or 5000 rounds.
                        let deadline = ContinuousClock.now + .seconds(20)
                        while !log.stop.load(ordering: .relaxed), ContinuousClock.now < deadline, round < 5000 {
                            round += 1
                            let key = SessionID().storageKey
                            let value = "\(worker)-\(round)"
                            let user = round % 5 == 0 ? "user\(worker)" : nil
                            do {
                                try await store.create(key, Self.session(now, user: user))
                                log.requests.add(1, ordering: .relaxed)
                                let applied = try await store.apply(.update(set: ["v": Self.json("\"\(value)\"")], remove: []), to: key, expiresAt: now + 1800)
                                log.requests.add(1, ordering: .relaxed)
                                if !applied { log.failures.withLock { $0.append("apply lost \(value)") } }
                                log.created.withLock { $0.append((key, "\"\(value)\"", user)) }
                                let loaded = try await store.load(key)
                                log.requests.add(1, ordering: .relaxed)
                                if loaded?.values["v"] != Self.json("\"\(value)\"") { log.failures.withLock { $0.append("load lost \(value)") } }
                            } catch {
                                log.failures.withLock { $0.append("\(value): \(error)") }
                            }
                        }
                        return nil
                    }
                }
                group.addTask {
                    defer { log.stop.store(true, ordering: .relaxed) }
                    try await Task.sleep(for: .milliseconds(300))
                    let there = try await RedisClusterSlotMover.move(slot: slot, from: source, to: target)
                    try await Task.sleep(for: .milliseconds(300))
                    // And back, so the cluster keeps its layout for the next run.
                    let back = try await RedisClusterSlotMover.move(slot: slot, from: target, to: source)
                    try await Task.sleep(for: .milliseconds(200))
                    return "moved slot \(slot) \(source) -> \(target) (\(there) keys) and back (\(back) keys)"
                }
                var summary = ""
                for try await result in group { if let result { summary = result } }
                return summary
            }
            #expect(log.failures.withLock { $0 }.isEmpty, "\(log.failures.withLock { $0.prefix(5) })")
            // Every session created (before and during the moves) loads with its value, from a fresh store too.
            let fresh = try stores.make()
            let all = log.created.withLock { $0 }
            var checked = 0
            for (key, value, _) in all {
                let loaded = try await fresh.load(key)
                #expect(loaded?.values["v"] == Self.json(value), "\(key)")
                checked += 1
            }
            var indexed = 0
            for user in Set(all.compactMap(\.2)) {
                let expected = Set(all.filter { $0.2 == user }.map(\.0))
                let listed = Set(try await fresh.sessions(ofUser: user).map(\.key))
                #expect(listed == expected, "\(user)")
                indexed += listed.count
            }
            let statistics = client.statistics
            #expect(statistics.moved + statistics.ask + statistics.tryAgain > 0)
            print("""
                resharding: \(migration); \(log.requests.load(ordering: .relaxed)) requests during it, \
                \(log.failures.withLock { $0.count }) failed; redirections seen: MOVED \(statistics.moved), ASK \(statistics.ask), \
                TRYAGAIN or non-local \(statistics.tryAgain), map refreshes \(statistics.refreshes); \(checked) sessions checked, \
                \(indexed) in user indexes
                """)
        }
    }
}

/// What the resharding test's tasks share.
final class ReshardingLog: Sendable {
    let created = Mutex<[(SessionStorageKey, String, String?)]>([])
    let requests = Atomic<Int>(0)
    let failures = Mutex<[String]>([])
    let stop = Atomic<Bool>(false)
}

/// Moves one slot between masters the way `redis-cli --cluster reshard` does: `CLUSTER SETSLOT
/// IMPORTING` on the target, `MIGRATING` on the source, `MIGRATE` of its keys a few at a time (with
/// a pause, so that requests meet the slot half moved; about 60 batches), then `SETSLOT NODE` on every master.
enum RedisClusterSlotMover {
    /// Returns how many keys moved.
    static func move(slot: Int, from source: RedisClusterNode, to target: RedisClusterNode) async throws -> Int {
        let from = try await RedisClusterTestServer.connection(source)
        defer { from.close() }
        let to = try await RedisClusterTestServer.connection(target)
        defer { to.close() }
        let sourceID = try #require(try await from.send(RedisCommand("CLUSTER", "MYID")).string)
        let targetID = try #require(try await to.send(RedisCommand("CLUSTER", "MYID")).string)
        #expect(try await to.send(RedisCommand("CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID)) == .simpleString("OK"))
        #expect(try await from.send(RedisCommand("CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID)) == .simpleString("OK"))
        var moved = 0
        // About 60 batches whatever the slot holds (at least 5 keys a batch), so the move lasts about
        // a second: the store waits out a migrating slot for at most its retry budget (5 s), and a
        // faster store fills the slot with more sessions before the move (1,000 keys at 5 a batch
        // took about as long as that budget).
        let count = try await from.send(RedisCommand("CLUSTER", "COUNTKEYSINSLOT", String(slot))).int64 ?? 0
        let batch = String(max(5, Int(count) / 60 + 1))
        let deadline = ContinuousClock.now + .seconds(20)
        for _ in 0..<10_000 where ContinuousClock.now < deadline {
            let keys = try await from.send(RedisCommand("CLUSTER", "GETKEYSINSLOT", String(slot), batch)).array?.compactMap(\.string) ?? []
            if keys.isEmpty { break }
            var migrate = RedisCommand("MIGRATE", target.host, String(target.port), "", "0", "5000", "KEYS")
            for key in keys { migrate.append(key) }
            let reply = try await from.send(migrate)
            #expect(reply == .simpleString("OK") || reply == .simpleString("NOKEY"), "\(reply)")
            moved += keys.count
            try await Task.sleep(for: .milliseconds(15))
        }
        // The target first, then the source, then every other master (as redis-cli does).
        let others = try await RedisClusterTestServer.slotMap().nodes.filter { $0 != source && $0 != target }
        #expect(try await to.send(RedisCommand("CLUSTER", "SETSLOT", String(slot), "NODE", targetID)) == .simpleString("OK"))
        #expect(try await from.send(RedisCommand("CLUSTER", "SETSLOT", String(slot), "NODE", targetID)) == .simpleString("OK"))
        for node in others {
            let connection = try await RedisClusterTestServer.connection(node)
            defer { connection.close() }
            _ = try await connection.send(RedisCommand("CLUSTER", "SETSLOT", String(slot), "NODE", targetID))
        }
        return moved
    }
}
