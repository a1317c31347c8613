import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SessionKit
import SessionKitRedis
import SessionKitTesting
import Testing

@Suite("RedisSessionStore", RedisTestServer.enabled)
struct RedisSessionStoreTests {
    static func session(_ now: Int64, idle: Int64 = 1800, user: String? = nil) -> StoredSession {
        var values: [String: SessionValue] = ["n": SessionValue(json: Array("1".utf8))]
        if let user { values[StoredSession.userIDKey] = SessionValue(flask: .string(user)) }
        return StoredSession(values: values, createdAt: now, expiresAt: now + idle, absoluteExpiresAt: now + 86_400)
    }

    static func json(_ text: String) -> SessionValue { SessionValue(json: Array(text.utf8)) }

    @Test(arguments: SessionStoreContract.allChecks)
    func contract(_ check: SessionStoreContractCheck) async throws {
        try await RedisTestStores.with { stores in
            // A prefix per store: the contract expects every store it makes to start empty.
            try await check.run { clock in try stores.make(prefix: "\(stores.prefix):\(UUID().uuidString)", clock: clock) }
        }
    }

    /// `touchesInLoad = true` (a read is one EVALSHA of the load script, which touches when due)
    /// keeps the touching load's rules, as the default (HGETALL, then the touch script) does.
    @Test(arguments: SessionStoreContract.allChecks.filter { $0.name.hasPrefix("loadTouch") })
    func contractWithTouchesInLoad(_ check: SessionStoreContractCheck) async throws {
        try await RedisTestStores.with { stores in
            try await check.run { clock in
                try stores.make(prefix: "\(stores.prefix):\(UUID().uuidString)", clock: clock) { $0.touchesInLoad = true }
            }
        }
    }

    /// 200 concurrent writes to one session, each setting a key of its own, and one removal:
    /// everything is there, and writes went in batches (``SessionWriteCoalescer``).
    @Test func concurrentWritesToOneSessionGoInBatchesAndLoseNothing() async throws {
        try await RedisTestStores.with { stores in
            let store = try stores.make()
            let key = SessionID().storageKey
            let now = SessionClock.system()
            try await store.create(key, Self.session(now, user: "bob"))
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let delta = index == 100
                            ? SessionDelta.update(set: [:], remove: ["n"])
                            : SessionDelta.update(set: ["k\(index)": Self.json("\(index)")], remove: [])
                        return try await store.apply(delta, to: key, expiresAt: now + 1800)
                    }
                }
                for try await applied in group { #expect(applied) }
            }
            let values = try #require(try await store.load(key)).values
            #expect(values.count == 200)   // 199 keys and the user
            #expect(values["n"] == nil && values["k0"] == Self.json("0") && values["k199"] == Self.json("199"))
            #expect(try await store.sessions(ofUser: "bob").map(\.key) == [key])
            let counts = store.writeCoalescer.counts
            #expect(counts.batches > 0 && counts.writes > counts.batches, "no write waited in a batch: \(counts)")
        }
    }

    @Test func twoStoresShareSessions() async throws {
        // As two app instances would: separate connections, one server, concurrent writes.
        try await RedisTestStores.with { stores in
            let a = try stores.make()
            let b = try stores.make()
            let key = SessionID().storageKey
            let now = SessionClock.system()
            try await a.create(key, Self.session(now, user: "alice"))
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<40 {
                    let store = index % 2 == 0 ? a : b
                    group.addTask { try await store.apply(.update(set: ["k\(index)": Self.json("\(index)")], remove: []), to: key, expiresAt: now + 1800) }
                }
                for try await applied in group { #expect(applied) }
            }
            #expect(try await b.load(key)?.values.count == 42)
            #expect(try await b.sessions(ofUser: "alice").map(\.key) == [key])
            let renamed = SessionID().storageKey
            #expect(try await b.rename(key, to: renamed))
            #expect(try await a.load(key) == nil)
            #expect(try await a.revokeSessions(ofUser: "alice") == 1)
            #expect(try await b.load(renamed) == nil)
        }
    }

    @Test func keepsOneHashPerSessionWithATTL() async throws {
        try await RedisTestStores.with { stores in
            let store = try stores.make()
            let id = SessionID()
            let now = SessionClock.system()
            try await store.create(id.storageKey, Self.session(now, idle: 600, user: "bob"))
            let connection = try await RedisTestServer.connection()
            defer { connection.close() }
            let keys = Set(try await RedisTestServer.keys(stores.prefix, on: connection))
            let sessionKey = "\(stores.prefix):s:\(id.storageKey.hex)"
            #expect(keys == [sessionKey, "\(stores.prefix):expiry", "\(stores.prefix):owners", "\(stores.prefix):u:bob"])
            #expect(try await connection.send(RedisCommand("TYPE", sessionKey)) == .simpleString("hash"))
            let ttl = try await connection.send(RedisCommand("TTL", sessionKey)).int64 ?? -1
            // The TTL counts from the store's clock when it wrote: at most 600, and less by no more
            // than the seconds that have passed since `now` (a loaded machine can take many).
            var elapsed = SessionClock.system() - now
            #expect((600 - elapsed - 1...600).contains(ttl))
            let fields = try await connection.send(RedisCommand("HGETALL", sessionKey)).array?.compactMap(\.string) ?? []
            #expect(Set(stride(from: 0, to: fields.count, by: 2).map { fields[$0] }) == ["c", "l", "e", "a", "v:n", "v:_user_id"])
            #expect(fields.contains("1") && !fields.contains(id.description))
            // A touch moves the TTL with the deadline.
            #expect(try await store.touch(id.storageKey, expiresAt: now + 1200))
            let moved = try await connection.send(RedisCommand("TTL", sessionKey)).int64 ?? -1
            elapsed = SessionClock.system() - now
            #expect((1200 - elapsed - 1...1200).contains(moved))
        }
    }

    @Test func redisExpiresKeysAndTheIndexesFollow() async throws {
        try await RedisTestStores.with { stores in
            let store = try stores.make()
            let now = SessionClock.system()
            let key = SessionID().storageKey
            try await store.create(key, Self.session(now, idle: 1, user: "carol"))
            try await Task.sleep(for: .milliseconds(2100))
            #expect(try await store.load(key) == nil)
            #expect(try await store.sessions(ofUser: "carol").isEmpty)
            // Redis dropped the key; cleanup still counts the expired session and clears the indexes.
            #expect(try await store.removeExpired() == 1)
            let connection = try await RedisTestServer.connection()
            defer { connection.close() }
            #expect(try await RedisTestServer.keys(stores.prefix, on: connection).isEmpty)
        }
    }

    @Test func cleanupRunsInBatches() async throws {
        try await RedisTestStores.with { stores in
            let clock = ContractClock(SessionClock.system())
            let store = try stores.make(clock: clock.function, configure: { $0.cleanupBatchSize = 100 })
            for index in 0..<450 {
                try await store.create(SessionID().storageKey, Self.session(clock.now, idle: index < 350 ? 10 : 1000, user: index % 2 == 0 ? "u" : nil))
            }
            clock.advance(by: 10)
            #expect(try await store.removeExpired() == 350)
            #expect(try await store.removeExpired() == 0)
            #expect(try await store.sessions(ofUser: "u").count == 50)
        }
    }

    @Test func valuesAreBinarySafeAndLarge() async throws {
        try await RedisTestStores.with { stores in
            let store = try stores.make()
            let now = SessionClock.system()
            let key = SessionID().storageKey
            var values: [String: SessionValue] = ["\r\n*2\r\n:x": Self.json("\"\\r\\n\""), "": Self.json("0"), "ü/🎉": Self.json("\"ok\"")]
            for index in 0..<1500 { values["k\(index)"] = Self.json("\(index)") }
            // Lifetimes of an hour: under a sanitizer on a loaded machine this test took 129 s, and its
            // session of 60 s had expired before it was read back (`scripts/test --sanitize address`, 2026-12-05).
            let session = StoredSession(values: values, createdAt: now, expiresAt: now + 3600, absoluteExpiresAt: now + 7200, userAgent: "Agent\r\n", ipAddress: "")
            try await store.create(key, session)
            #expect(try await store.load(key) == session)
            var set: [String: SessionValue] = [:]
            for index in 0..<1200 { set["n\(index)"] = Self.json("true") }
            #expect(try await store.apply(.update(set: set, remove: Set((0..<1500).map { "k\($0)" })), to: key, expiresAt: now + 3600))
            #expect(try await store.load(key)?.values.count == 1203)
        }
    }

    @Test func aBrokenConnectionIsReplaced() async throws {
        try await RedisTestStores.with { stores in
            let name = "sktest-\(UUID().uuidString.prefix(8))"
            let store = try stores.make(configure: { $0.clientName = name; $0.poolSize = 1 })
            let key = SessionID().storageKey
            try await store.create(key, Self.session(SessionClock.system()))
            let connection = try await RedisTestServer.connection()
            defer { connection.close() }
            let list = try await connection.send(RedisCommand("CLIENT", "LIST")).string ?? ""
            let ids = list.split(separator: "\n").filter { $0.contains(" name=\(name) ") }.compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("id=") }.map { String($0.dropFirst(3)) }
            }
            #expect(ids.count == 1)
            for id in ids { _ = try await connection.send(RedisCommand("CLIENT", "KILL", "ID", id)) }
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await store.load(key) != nil)
        }
    }

    @Test func reloadsScriptsTheServerForgot() async throws {
        try await RedisTestStores.with { stores in
            let store = try stores.make()
            let key = SessionID().storageKey
            let now = SessionClock.system()
            try await store.create(key, Self.session(now))
            let connection = try await RedisTestServer.connection()
            defer { connection.close() }
            _ = try await connection.send(RedisCommand("SCRIPT", "FLUSH"))
            #expect(try await store.touch(key, expiresAt: now + 100))
        }
    }

    @Test func runsAsAServiceAndClosesOnShutdown() async throws {
        try await RedisTestStores.with { stores in
            let clock = ContractClock(SessionClock.system())
            let store = try stores.make(clock: clock.function, configure: { $0.cleanupInterval = .milliseconds(10) })
            let expiring = SessionID().storageKey
            try await store.create(expiring, Self.session(clock.now, idle: 5, user: "dave"))
            let live = SessionID().storageKey
            try await store.create(live, Self.session(clock.now, user: "dave"))
            clock.advance(by: 5)
            let group = ServiceGroup(configuration: .init(services: [store], gracefulShutdownSignals: [], logger: Logger(label: "test")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // Until the service's cleanup has removed the expired session from the index (a
                // fixed 150 ms wait was too short on a loaded machine), at most 10 s.
                let connection = try await RedisTestServer.connection()
                defer { connection.close() }
                for _ in 0..<200 {
                    try await Task.sleep(for: .milliseconds(50))
                    if try await connection.send(RedisCommand("ZCARD", "\(stores.prefix):expiry")).int64 == 1 { break }
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await #expect(throws: SessionStoreError.self) { _ = try await store.load(live) }
            let reopened = try stores.make(clock: clock.function)
            #expect(try await reopened.load(live) != nil)
            #expect(try await reopened.removeExpired() == 0)
            #expect(try await reopened.sessions(ofUser: "dave").map(\.key) == [live])
        }
    }

    @Test func authenticationAndDatabaseSelection() async throws {
        try await RedisTestStores.with { stores in
            // No password is set on the test server: AUTH fails, and the message does not show the password.
            let store = try stores.make(configure: { $0.password = "s3cr3t-password" })
            do {
                _ = try await store.load(SessionID().storageKey)
                Issue.record("AUTH with a password the server does not have must fail")
            } catch let error as SessionStoreError {
                #expect(error.code == .unavailable)
                #expect(!error.description.contains("s3cr3t"))
            }
            let other = try stores.make(configure: { $0.database = 3 })
            let key = SessionID().storageKey
            try await other.create(key, Self.session(SessionClock.system()))
            #expect(try await other.load(key) != nil)
            #expect(try await stores.make().load(key) == nil)
            try await other.delete(key)
        }
    }
}

/// Failures that need no Redis server.
@Suite("RedisSessionStore failures")
struct RedisSessionStoreFailureTests {
    static func elapsed(_ body: () async throws -> Void) async rethrows -> Duration {
        let start = ContinuousClock.now
        try await body()
        return ContinuousClock.now - start
    }

    @Test func aServerThatIsNotListeningIsUnavailableQuickly() async throws {
        // Bind a port, then close it: nothing listens there.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 1
        try await channel.close()
        let store = RedisSessionStore(configuration: .init(host: "127.0.0.1", port: port, password: "hunter2-secret", keyPrefix: "sktest"))
        defer { store.close() }
        let time = try await Self.elapsed {
            for _ in 0..<3 {
                do {
                    _ = try await store.load(SessionID().storageKey)
                    Issue.record("load must fail")
                } catch let error as SessionStoreError {
                    #expect(error.code == .unavailable)
                    #expect(error.message.contains("127.0.0.1:\(port)") && !error.message.contains("hunter2"))
                }
            }
            await #expect(throws: SessionStoreError.self) { try await store.ping() }
        }
        // "Does not hang", with room for a loaded CI machine; not a performance goal.
        #expect(time < TestTimeScale.limit(.seconds(30)))
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        // Accepts connections and reads nothing back: every command must time out, not hang.
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = server.localAddress?.port ?? 1
        let store = RedisSessionStore(configuration: .init(
            host: "127.0.0.1", port: port, keyPrefix: "sktest",
            connectTimeout: .milliseconds(300), commandTimeout: .milliseconds(200), clientName: nil
        ))
        let time = try await Self.elapsed {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        await #expect(throws: SessionStoreError.self) { _ = try await store.touch(SessionID().storageKey, expiresAt: 0) }
                    }
                }
                try await group.waitForAll()
            }
        }
        // "Does not hang", with room for a loaded CI machine; not a performance goal.
        #expect(time < TestTimeScale.limit(.seconds(30)))
        store.close()
        try await server.close()
    }

    @Test func parsesURLs() throws {
        let full = try RedisSessionStoreConfiguration(url: "redis://app:p%40ss%3Aword@redis.internal:6380/4", keyPrefix: "x")
        #expect(full.host == "redis.internal" && full.port == 6380 && full.database == 4)
        #expect(full.username == "app" && full.password == "p@ss:word" && full.keyPrefix == "x")
        let short = try RedisSessionStoreConfiguration(url: "redis://127.0.0.1:1234")
        #expect(short.port == 1234 && short.database == 0 && short.password == nil && short.username == nil)
        let passwordOnly = try RedisSessionStoreConfiguration(url: "redis://:secret@[::1]:7000/1")
        #expect(passwordOnly.host == "::1" && passwordOnly.port == 7000 && passwordOnly.password == "secret" && passwordOnly.username == nil)
        for bad in ["http://x", "redis://h:0", "redis://h:port", "redis://h/db", "redis://:%zz@h"] {
            #expect(throws: SessionStoreError.self, "\(bad)") { _ = try RedisSessionStoreConfiguration(url: bad) }
        }
        do {
            _ = try RedisSessionStoreConfiguration(url: "redis://:topsecret@h:99999")
        } catch let error as SessionStoreError {
            #expect(!error.message.contains("topsecret"))
        }
    }
}
