import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SessionKit
import SessionKitPostgres
import SessionKitStoreContract
import Testing

@Suite("PostgresSessionStore", .enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason))
struct PostgresSessionStoreTests {
    static func session(_ now: Int64, idle: Int64 = 1800, user: String? = nil) -> StoredSession {
        var values: [String: SessionValue] = ["n": SessionValue(json: Array("1".utf8))]
        if let user { values[StoredSession.userIDKey] = SessionValue(flask: .string(user)) }
        return StoredSession(values: values, createdAt: now, expiresAt: now + idle, absoluteExpiresAt: now + 86_400)
    }

    @Test(arguments: SessionStoreContract.allChecks)
    func contract(_ check: SessionStoreContractCheck) async throws {
        try await PostgresTestDatabase.with { database in
            try await check.run { clock in database.makeStore(clock: clock) }
        }
    }

    @Test func migrationIsIdempotentVersionedAndSafeWhenServersStartTogether() async throws {
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            // Five servers starting at once, then each again.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<5 {
                    let store = database.makeStore(schema: schema)
                    group.addTask {
                        try await store.migrate()
                        try await store.migrate()
                    }
                }
                try await group.waitForAll()
            }
            let client = database.client
            let versions = try await client.query("SELECT component, version FROM \(unescaped: schema).sessionkit_schema").collect()
            #expect(versions.count == 1)
            let (component, version) = try #require(versions.first).decode((String, Int32).self)
            #expect(component == "sessions" && Int(version) == PostgresSessionStore.schemaVersion)
            let indexes = try await client.query("SELECT indexname FROM pg_indexes WHERE schemaname = \(schema) AND tablename = 'sessionkit_sessions'").collect()
            let names = Set(try indexes.map { try $0.decode(String.self) })
            #expect(names.contains("sessionkit_sessions_expires_at"))
            #expect(names.contains("sessionkit_sessions_user_id"))
            #expect(names.contains("sessionkit_sessions_pkey"))
            let columns = try await client.query("""
                SELECT column_name, data_type FROM information_schema.columns
                WHERE table_schema = \(schema) AND table_name = 'sessionkit_sessions'
                """).collect()
            let types = Dictionary(uniqueKeysWithValues: try columns.map { try $0.decode((String, String).self) })
            #expect(types == [
                "key_hash": "bytea", "data": "bytea", "user_id": "text", "created_at": "bigint", "last_seen_at": "bigint",
                "expires_at": "bigint", "absolute_expires_at": "bigint", "user_agent": "text", "ip_address": "text",
            ])
            // Data survives a second migration.
            let key = SessionID().storageKey
            let store = database.makeStore(schema: schema)
            try await store.create(key, Self.session(systemSessionClock()))
            try await database.makeStore(schema: schema).migrate()
            #expect(try await store.load(key) != nil)
            // A database from a newer SessionKit is refused, not damaged.
            try await client.query("UPDATE \(unescaped: schema).sessionkit_schema SET version = 99")
            let error = await #expect(throws: SessionStoreError.self) { try await database.makeStore(schema: schema).migrate() }
            #expect(error?.code == .unavailable)
        }
    }

    @Test func twoAppServersShareOneStore() async throws {
        // Two stores with their own connection pools, as two app servers would have.
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            let otherClient = PostgresTestDatabase.makeClient()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await otherClient.run() }
                defer { group.cancelAll() }
                let a = database.makeStore(schema: schema)
                let b = PostgresSessionStore(client: otherClient, configuration: .init(schema: schema, runsClient: false))
                let key = SessionID().storageKey
                let now = systemSessionClock()
                try await a.create(key, Self.session(now, user: "alice"))
                #expect(try await b.load(key) == Self.session(now, user: "alice"))
                await #expect(throws: SessionStoreError.self) { try await b.create(key, Self.session(now)) }
                try await withThrowingTaskGroup(of: Bool.self) { applies in
                    for index in 0..<40 {
                        let store = index % 2 == 0 ? a : b
                        applies.addTask {
                            try await store.apply(.update(set: ["k\(index)": SessionValue(json: Array("\(index)".utf8))], remove: []), to: key, expiresAt: now + 1800)
                        }
                    }
                    for try await applied in applies { #expect(applied) }
                }
                #expect(try await a.load(key)?.values.count == 42)
                let other = SessionID().storageKey
                try await b.create(other, Self.session(now, user: "alice"))
                #expect(try await a.sessions(ofUser: "alice").count == 2)
                #expect(try await a.revokeSessions(ofUser: "alice", except: key) == 1)
                #expect(try await b.load(other) == nil)
                try await b.delete(key)
                #expect(try await a.load(key) == nil)
                #expect(!(try await a.touch(key, expiresAt: now + 1800)))
            }
        }
    }

    @Test func storesOnlyTheHashOfTheID() async throws {
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            let store = database.makeStore(schema: schema)
            let id = SessionID()
            try await store.create(id.storageKey, Self.session(systemSessionClock()))
            let rows = try await database.client.query("SELECT encode(key_hash, 'hex') FROM \(unescaped: schema).sessionkit_sessions").collect()
            #expect(try rows.map { try $0.decode(String.self) } == [id.storageKey.hex])
        }
    }

    @Test func cleanupRunsInBatches() async throws {
        try await PostgresTestDatabase.with { database in
            let clock = ContractClock()
            let store = database.makeStore(clock: clock.function) { $0.cleanupBatchSize = 100 }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<450 {
                    group.addTask { try await store.create(SessionID().storageKey, Self.session(clock.now, idle: index < 350 ? 10 : 1000)) }
                }
                try await group.waitForAll()
            }
            clock.advance(by: 10)
            #expect(try await store.removeExpired() == 350)
            #expect(try await store.removeExpired() == 0)
        }
    }

    @Test func runsItsClientAndCleanupAsAService() async throws {
        try await PostgresTestDatabase.with { database in
            let clock = ContractClock()
            let schema = database.makeSchema()
            let store = PostgresSessionStore(
                client: PostgresTestDatabase.makeClient(),
                configuration: .init(schema: schema, cleanupInterval: .milliseconds(20)),
                clock: clock.function
            )
            let observer = database.makeStore(schema: schema, clock: clock.function)
            let expiring = SessionID().storageKey
            let live = SessionID().storageKey
            try await observer.create(expiring, Self.session(clock.now, idle: 5))
            try await observer.create(live, Self.session(clock.now))
            clock.advance(by: 5)
            let group = ServiceGroup(configuration: .init(services: [store], gracefulShutdownSignals: [], logger: Logger(label: "test")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                #expect(try await store.load(live) != nil)   // the store's own client is running
                let deadline = ContinuousClock.now + .seconds(30)
                while try await database.client.query("SELECT 1 FROM \(unescaped: schema).sessionkit_sessions WHERE expires_at <= \(clock.now)").collect().count > 0,
                    ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            // Cleanup removed the expired session only; the store's client is closed now.
            #expect(try await observer.removeExpired() == 0)
            #expect(try await observer.load(live) != nil)
            let error = await #expect(throws: SessionStoreError.self) { _ = try await store.load(live) }
            #expect(error?.code == .unavailable)
        }
    }

    @Test func valuesKeepTheirExactJSONText() async throws {
        try await PostgresTestDatabase.with { database in
            let store = database.makeStore()
            let key = SessionID().storageKey
            let now = systemSessionClock()
            let texts = ["{\"b\": 1, \"a\":[1.50, 2e3]}", "\"é ✓ \\u0000\"", "{\" t\":[\"x\"]}", "12345678901234567890123"]
            let values = Dictionary(uniqueKeysWithValues: texts.enumerated().map { ("v\($0.offset)", SessionValue(json: Array($0.element.utf8))) })
            try await store.create(key, StoredSession(values: values, createdAt: now, expiresAt: now + 60, absoluteExpiresAt: now + 600))
            _ = try await store.apply(.update(set: ["w": SessionValue(json: Array("[ ]".utf8))], remove: []), to: key, expiresAt: now + 60)
            let loaded = try #require(try await store.load(key))
            for (index, text) in texts.enumerated() {
                #expect(loaded.values["v\(index)"].map { String(decoding: $0.jsonBytes, as: UTF8.self) } == text)
            }
            #expect(loaded.values["w"].map { String(decoding: $0.jsonBytes, as: UTF8.self) } == "[ ]")
        }
    }
}
