import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
@testable import SessionKit
import SessionKitPostgres
import SessionKitTesting
import Testing

@Suite("PostgresSessionStore", .enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason))
struct PostgresSessionStoreTests {
    static func session(_ now: Int64, idle: Int64 = 1800, user: String? = nil) -> StoredSession {
        var values: [String: SessionValue] = ["n": SessionValue(json: Array("1".utf8))]
        if let user { values[StoredSession.userIDKey] = SessionValue(flask: .string(user)) }
        return StoredSession(values: values, createdAt: now, expiresAt: now + idle, absoluteExpiresAt: now + 86_400)
    }

    /// Every check on SessionKit's own connections (a store made from a URL), and on a
    /// `PostgresClient` alone (a store made on a client).
    @Test(arguments: SessionStoreContract.allChecks, [true, false])
    func contract(_ check: SessionStoreContractCheck, wire: Bool) async throws {
        try await PostgresTestDatabase.with { database in
            try await check.run { clock in database.makeStore(clock: clock, wire: wire) }
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
            #expect(names == ["sessionkit_sessions_sweep_at", "sessionkit_sessions_user_id", "sessionkit_sessions_pkey"])
            let columns = try await client.query("""
                SELECT column_name, data_type FROM information_schema.columns
                WHERE table_schema = \(schema) AND table_name = 'sessionkit_sessions'
                """).collect()
            let types = Dictionary(uniqueKeysWithValues: try columns.map { try $0.decode((String, String).self) })
            #expect(types == [
                "key_hash": "bytea", "data": "bytea", "user_id": "text", "created_at": "bigint", "last_seen_at": "bigint",
                "expires_at": "bigint", "absolute_expires_at": "bigint", "user_agent": "text", "ip_address": "text",
                "sweep_at": "bigint",
            ])
            let options = try await client.query("""
                SELECT array_to_string(reloptions, ',') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = \(schema) AND c.relname = 'sessionkit_sessions'
                """).collect()
            #expect(try options.first?.decode(String?.self) == "fillfactor=90")
            // Data survives a second migration.
            let key = SessionID().storageKey
            let store = database.makeStore(schema: schema)
            try await store.create(key, Self.session(SessionClock.system()))
            try await database.makeStore(schema: schema).migrate()
            #expect(try await store.load(key) != nil)
            // A database from a newer SessionKit is refused, not damaged.
            try await client.query("UPDATE \(unescaped: schema).sessionkit_schema SET version = 99")
            let error = await #expect(throws: SessionStoreError.self) { try await database.makeStore(schema: schema).migrate() }
            #expect(error?.code == .unavailable)
        }
    }

    @Test func migratesAVersion1SchemaKeepingItsSessions() async throws {
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            let client = database.client
            let clock = ContractClock()
            let now = clock.now
            // The schema as version 1 of the store created it.
            try await client.query("CREATE SCHEMA \(unescaped: schema)")
            try await client.query("""
                CREATE TABLE \(unescaped: schema).sessionkit_sessions (
                    key_hash bytea PRIMARY KEY, data bytea NOT NULL, user_id text, created_at bigint NOT NULL,
                    last_seen_at bigint NOT NULL, expires_at bigint NOT NULL, absolute_expires_at bigint NOT NULL,
                    user_agent text, ip_address text
                )
                """)
            try await client.query("CREATE INDEX sessionkit_sessions_expires_at ON \(unescaped: schema).sessionkit_sessions (expires_at)")
            try await client.query("""
                CREATE INDEX sessionkit_sessions_user_id ON \(unescaped: schema).sessionkit_sessions (user_id, created_at) WHERE user_id IS NOT NULL
                """)
            try await client.query("CREATE TABLE \(unescaped: schema).sessionkit_schema (component text PRIMARY KEY, version integer NOT NULL)")
            try await client.query("INSERT INTO \(unescaped: schema).sessionkit_schema VALUES ('sessions', 1)")
            let live = SessionID().storageKey, expired = SessionID().storageKey
            let data = ByteBuffer(bytes: SessionRecordCoding.encode(["n": SessionValue(json: Array("7".utf8))]))
            for (key, expiresAt, user) in [(live, now + 100, "alice"), (expired, now + 10, "bob")] {
                try await client.query("""
                    INSERT INTO \(unescaped: schema).sessionkit_sessions (key_hash, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at)
                    VALUES (\(ByteBuffer(bytes: key.bytes)), \(data), \(user), \(now), \(now), \(expiresAt), \(now + 86_400))
                    """)
            }

            let store = database.makeStore(schema: schema, clock: clock.function)
            #expect(try await store.load(live)?.values["n"] == SessionValue(json: Array("7".utf8)))
            #expect(try await store.sessions(ofUser: "alice").map(\.key) == [live])
            clock.advance(by: 50)
            #expect(try await store.touch(live, expiresAt: clock.now + 100))
            #expect(try await store.removeExpired() == 1)
            #expect(try await store.load(expired) == nil)
            #expect(try await store.load(live) != nil)

            let versions = try await client.query("SELECT version FROM \(unescaped: schema).sessionkit_schema").collect()
            #expect(try versions.first?.decode(Int32.self) == Int32(PostgresSessionStore.schemaVersion))
            let indexes = try await client.query("SELECT indexname FROM pg_indexes WHERE schemaname = \(schema) AND tablename = 'sessionkit_sessions'").collect()
            #expect(Set(try indexes.map { try $0.decode(String.self) }) == ["sessionkit_sessions_sweep_at", "sessionkit_sessions_user_id", "sessionkit_sessions_pkey"])
            // The migrated row was given its deadline as its sweep time (not 0, which would make the
            // first cleanup look at every row); the touch that moved its deadline later left it.
            let sweep = try await client.query("SELECT sweep_at FROM \(unescaped: schema).sessionkit_sessions").collect()
            #expect(try sweep.map { try $0.decode(Int64.self) } == [now + 100])
        }
    }

    @Test func writesThatMoveTheDeadlineLaterChangeNoIndexedColumn() async throws {
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            let clock = ContractClock()
            let store = database.makeStore(schema: schema, clock: clock.function)
            let key = SessionID().storageKey
            let start = clock.now
            try await store.create(key, Self.session(start, idle: 100, user: "alice"))
            func sweepAt() async throws -> Int64? {
                try await database.client.query("SELECT sweep_at FROM \(unescaped: schema).sessionkit_sessions").collect().first?.decode(Int64.self)
            }
            let change = SessionDelta.update(set: ["m": SessionValue(json: Array("1".utf8))], remove: [])
            clock.advance(by: 10)
            #expect(try await store.apply(change, to: key, expiresAt: start + 300))
            #expect(try await store.apply(.replaceAll(["n": SessionValue(json: Array("2".utf8))]), to: key, expiresAt: start + 350))
            #expect(try await store.touch(key, expiresAt: start + 400))
            #expect(try await sweepAt() == start + 100)
            // A shorter deadline brings the sweep time with it.
            #expect(try await store.apply(change, to: key, expiresAt: start + 50))
            #expect(try await sweepAt() == start + 50)
            #expect(try await store.touch(key, expiresAt: start + 40))
            #expect(try await sweepAt() == start + 40)
            // Cleanup after the sweep time, before the deadline: the next sweep time is the deadline.
            #expect(try await store.touch(key, expiresAt: start + 500))
            clock.advance(by: 40)
            #expect(try await store.removeExpired() == 0)
            #expect(try await sweepAt() == start + 500)
        }
    }

    @Test func twoAppServersShareOneStore() async throws {
        // Two stores with their own connection pools, as two app servers would have.
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            let otherClient = PostgresTestDatabase.makeClient()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await PostgresClientRunner.run(otherClient, grace: TestTimeScale.limit(.seconds(10)), logger: Logger(label: "test")) }
                defer { group.cancelAll() }
                let a = database.makeStore(schema: schema)
                let b = PostgresSessionStore(client: otherClient, configuration: .init(schema: schema, connectionTimeout: TestTimeScale.limit(.seconds(30)), runsClient: false))   // patient: a hang detector under the parallel suite
                let key = SessionID().storageKey
                let now = SessionClock.system()
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
            try await store.create(id.storageKey, Self.session(SessionClock.system()))
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
                configuration: .init(schema: schema, connectionTimeout: TestTimeScale.limit(.seconds(30)), cleanupInterval: .milliseconds(20)),   // patient, as the shared stores
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
            let now = SessionClock.system()
            let texts = ["{\"b\": 1, \"a\":[1.50, 2e3]}", "\"é ✓ \\u0000\"", "{\" t\":[\"x\"]}", "12345678901234567890123"]
            let values = Dictionary(uniqueKeysWithValues: texts.enumerated().map { ("v\($0.offset)", SessionValue(json: Array($0.element.utf8))) })
            // Deadlines far enough off that a stalled machine cannot expire the session mid-test.
            try await store.create(key, StoredSession(values: values, createdAt: now, expiresAt: now + 3600, absoluteExpiresAt: now + 7200))
            _ = try await store.apply(.update(set: ["w": SessionValue(json: Array("[ ]".utf8))], remove: []), to: key, expiresAt: now + 3600)
            let loaded = try #require(try await store.load(key))
            for (index, text) in texts.enumerated() {
                #expect(loaded.values["v\(index)"].map { String(decoding: $0.jsonBytes, as: UTF8.self) } == text)
            }
            #expect(loaded.values["w"].map { String(decoding: $0.jsonBytes, as: UTF8.self) } == "[ ]")
        }
    }

    /// PostgreSQL's `sessionkit_apply_delta` against Swift's `SessionRecordCoding.applying`, on
    /// random stored blobs (with and without a trailer) and random deltas: the same values and
    /// trailer; and every truncation of a stored blob fails in both.
    @Test func theMergeFunctionMatchesSwift() async throws {
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            try await database.makeStore(schema: schema).migrate()
            let client = database.client
            func merged(_ stored: [UInt8], _ delta: [UInt8]) async throws -> [UInt8] {
                let rows = try await client.query(
                    "SELECT \(unescaped: "\"" + schema + "\"").sessionkit_apply_delta(\(ByteBuffer(bytes: stored)), \(ByteBuffer(bytes: delta)))"
                ).collect()
                return Array(try #require(rows.first).decode(ByteBuffer.self).readableBytesView)
            }
            var random = SplitMix64(seed: 23)
            func text(_ maximum: Int) -> String {
                let alphabet = Array("ab_é✓\"{}[]0123456789 ".unicodeScalars)
                return String(String.UnicodeScalarView((0..<Int(random.next() % UInt64(maximum + 1))).map { _ in
                    alphabet[Int(random.next() % UInt64(alphabet.count))]
                }))
            }
            let keys = ["a", "b", "_user_id", "csrf", "é", "long-" + String(repeating: "k", count: 200)]
            for round in 0..<150 {
                var values: [String: SessionValue] = [:]
                for key in keys where random.next() % 2 == 0 { values[key] = SessionValue(json: Array(text(round % 3 == 0 ? 300 : 12).utf8)) }
                let trailer: [String?] = random.next() % 2 == 0 ? [] : [text(20), nil, text(5)]
                let stored = SessionRecordCoding.encode(values, trailer: trailer)
                var set: [String: SessionValue] = [:]
                var remove: Set<String> = []
                for key in keys {
                    switch random.next() % 4 {
                    case 0: set[key] = SessionValue(json: Array(text(8).utf8))
                    case 1: remove.insert(key)
                    default: break
                    }
                }
                remove.insert("never-stored")
                let delta = SessionRecordCoding.encode(set, trailer: remove.map { $0 })
                let expected = try SessionRecordCoding.decode(try SessionRecordCoding.applying(.update(set: set, remove: remove), toBlob: stored))
                let actual = try SessionRecordCoding.decode(try await merged(stored, delta))
                #expect(actual.values == expected.values, "round \(round)")
                #expect(actual.trailer == expected.trailer, "round \(round)")
                if round < 10 {
                    // (A blob cut right after its values, before the trailer, is still well formed.)
                    for length in 0..<stored.count {
                        let truncated = Array(stored.prefix(length))
                        let swift = try? SessionRecordCoding.applying(.update(set: set, remove: remove), toBlob: truncated)
                        let postgres = try? await merged(truncated, delta)
                        #expect((swift == nil) == (postgres == nil), "round \(round), \(length) of \(stored.count) bytes")
                        if let swift, let postgres {
                            #expect(try SessionRecordCoding.decode(swift).values == SessionRecordCoding.decode(postgres).values)
                        }
                    }
                }
            }
        }
    }

    /// A stored record that does not parse is a corrupt record to `apply`, not an outage.
    @Test func applyToACorruptRecordSaysSo() async throws {
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            let store = database.makeStore(schema: schema)
            let key = SessionID().storageKey
            let now = SessionClock.system()
            try await store.create(key, Self.session(now))
            _ = try await database.client.query("UPDATE \(unescaped: "\"" + schema + "\"").sessionkit_sessions SET data = '\\x0105'::bytea")
            await #expect {
                try await store.apply(.update(set: ["n": SessionValue(json: Array("2".utf8))], remove: []), to: key, expiresAt: now + 60)
            } throws: { error in
                (error as? SessionStoreError)?.code == .corruptRecord
            }
        }
    }
}
