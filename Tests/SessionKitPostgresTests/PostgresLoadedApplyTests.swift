import PostgresNIO
@testable import SessionKit
@testable import SessionKitPostgres
import SessionKitTesting
import Testing

/// ``SessionLoadedApplyingStore`` in PostgreSQL: a write of the loaded values with the delta
/// applied, made only while the row is at the loaded revision (`xmin`), else the delta merged into
/// what the row holds then. Each test runs on SessionKit's own connections and on a
/// `PostgresClient`.
@Suite("PostgresSessionStore writes at the loaded revision", .enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason))
struct PostgresLoadedApplyTests {
    static func json(_ text: String) -> SessionValue { SessionValue(json: Array(text.utf8)) }

    /// A touch that is not due (the idle window is long and the session was just seen).
    static func notDue(_ now: Int64) -> SessionLoadTouch {
        SessionLoadTouch(now: now, idleWindow: 7200, permanentWindow: 86_400, touchFraction: 0.5)
    }

    static func values(_ store: PostgresSessionStore, _ key: SessionStorageKey) async throws -> [String: String] {
        let loaded = try #require(try await store.load(key))
        return loaded.values.mapValues { String(decoding: $0.jsonBytes, as: UTF8.self) }
    }

    /// Replaces the merge function with one that fails: a write that still succeeds did not call it.
    static func breakTheMergeFunction(_ database: PostgresTestDatabase, schema: String) async throws {
        try await database.client.query("""
            CREATE OR REPLACE FUNCTION \(unescaped: "\"\(schema)\"").sessionkit_apply_delta(stored bytea, delta bytea) RETURNS bytea
            LANGUAGE plpgsql IMMUTABLE STRICT AS $$ BEGIN RAISE EXCEPTION 'merged' USING ERRCODE = 'P0001'; END $$
            """)
    }

    @Test(arguments: [true, false])
    func aWriteAtTheLoadedRevisionNeedsNoMerge(wire: Bool) async throws {
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            let clock = ContractClock()
            let store = database.makeStore(schema: schema, clock: clock.function, wire: wire)
            let key = SessionID().storageKey
            let now = clock.now
            try await store.create(key, StoredSession(
                values: ["a": Self.json("1"), "b": Self.json("2")], createdAt: now, expiresAt: now + 7200, absoluteExpiresAt: now + 86_400
            ))
            let loaded = try #require(try await store.load(key, touchingIfDue: Self.notDue(now)))
            #expect(!loaded.touched && loaded.session.revision != nil)
            try await Self.breakTheMergeFunction(database, schema: schema)
            let delta = SessionDelta.update(set: ["b": Self.json("3"), "_user_id": Self.json("\"u1\"")], remove: ["a"])
            #expect(try await store.apply(delta, to: key, expiresAt: now + 7200, loaded: loaded.session))
            // A second write from the same (now stale) load merges: the broken merge fails it.
            await #expect(throws: SessionStoreError.self) {
                _ = try await store.apply(.update(set: ["c": Self.json("4")], remove: []), to: key, expiresAt: now + 7200, loaded: loaded.session)
            }
            #expect(try await Self.values(store, key) == ["b": "3", "_user_id": "\"u1\""])
            #expect(try await store.sessions(ofUser: "u1").map(\.key) == [key])
        }
    }

    @Test(arguments: [true, false])
    func aStaleRevisionMergesWhatTheRowHoldsNow(wire: Bool) async throws {
        try await PostgresTestDatabase.with { database in
            let clock = ContractClock()
            let store = database.makeStore(clock: clock.function, wire: wire)
            let key = SessionID().storageKey
            let now = clock.now
            try await store.create(key, StoredSession(values: ["a": Self.json("1")], createdAt: now, expiresAt: now + 7200, absoluteExpiresAt: now + 86_400))
            let first = try #require(try await store.load(key, touchingIfDue: Self.notDue(now))).session
            // Another request changes the session after this one loaded it.
            #expect(try await store.apply(.update(set: ["c": Self.json("5")], remove: []), to: key, expiresAt: now + 7200))
            #expect(try await store.apply(.update(set: ["b": Self.json("3")], remove: ["a"]), to: key, expiresAt: now + 7200, loaded: first))
            #expect(try await Self.values(store, key) == ["b": "3", "c": "5"])
        }
    }

    @Test(arguments: [true, false])
    func aGoneSessionIsNotWrittenAgain(wire: Bool) async throws {
        try await PostgresTestDatabase.with { database in
            let clock = ContractClock()
            let store = database.makeStore(clock: clock.function, wire: wire)
            let key = SessionID().storageKey
            let now = clock.now
            try await store.create(key, StoredSession(values: ["a": Self.json("1")], createdAt: now, expiresAt: now + 7200, absoluteExpiresAt: now + 86_400))
            let loaded = try #require(try await store.load(key, touchingIfDue: Self.notDue(now))).session
            try await store.delete(key)
            #expect(try await !store.apply(.update(set: ["b": Self.json("2")], remove: []), to: key, expiresAt: now + 7200, loaded: loaded))
            #expect(try await store.load(key) == nil)
        }
    }

    @Test(arguments: [true, false])
    func aLoadThatTouchesGivesNoRevision(wire: Bool) async throws {
        try await PostgresTestDatabase.with { database in
            let clock = ContractClock()
            let store = database.makeStore(clock: clock.function, wire: wire)
            let key = SessionID().storageKey
            let now = clock.now
            try await store.create(key, StoredSession(values: ["a": Self.json("1")], createdAt: now, expiresAt: now + 7200, absoluteExpiresAt: now + 86_400))
            clock.advance(by: 5000)
            let loaded = try #require(try await store.load(key, touchingIfDue: Self.notDue(clock.now)))
            #expect(loaded.touched && loaded.session.revision == nil)
        }
    }

    /// Many requests load the session, then each writes a key of its own from what it loaded:
    /// every write that finds the row changed merges instead, so every key is kept.
    @Test(arguments: [true, false])
    func concurrentWritesFromOneLoadedRevisionLoseNothing(wire: Bool) async throws {
        try await PostgresTestDatabase.with { database in
            let clock = ContractClock()
            let store = database.makeStore(clock: clock.function, wire: wire)
            let key = SessionID().storageKey
            let now = clock.now
            try await store.create(key, StoredSession(values: ["a": Self.json("1")], createdAt: now, expiresAt: now + 7200, absoluteExpiresAt: now + 86_400))
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        let loaded = try #require(try await store.load(key, touchingIfDue: Self.notDue(now))).session
                        return try await store.apply(.update(set: ["k\(index)": Self.json("\(index)")], remove: []), to: key, expiresAt: now + 7200, loaded: loaded)
                    }
                }
                for try await written in group { #expect(written) }
            }
            let values = try await Self.values(store, key)
            #expect(values.count == 61)
            for index in 0..<60 { #expect(values["k\(index)"] == "\(index)") }
        }
    }
}
