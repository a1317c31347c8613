import PostgresNIO
@testable import SessionKit
@testable import SessionKitPostgres
import SessionKitTesting
import Synchronization
import Testing

/// ``SessionWriteCoalescer``: concurrent writes to one session go as batches behind the write on
/// its way, and lose nothing; a batch keeps the order its writes arrived in; a gone session stays
/// gone; a failing statement fails every write of its batch, none waits forever.
@Suite("PostgresSessionStore write batches", .enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason))
struct SessionWriteCoalescerTests {
    static func json(_ text: String) -> SessionValue { SessionValue(json: Array(text.utf8)) }

    static func session(_ now: Int64, _ values: [String: SessionValue] = [:]) -> StoredSession {
        StoredSession(values: values, createdAt: now, expiresAt: now + 7200, absoluteExpiresAt: now + 86_400)
    }

    @Test func aBatchKeepsTheOrderItsWritesArrivedIn() {
        let batch = SessionWriteCoalescer.Batch()
        batch.add(set: ["a": Self.json("1"), "b": Self.json("1")], remove: ["c"], expiresAt: 10)
        batch.add(set: ["c": Self.json("2")], remove: ["a", "d"], expiresAt: 20)
        batch.add(set: ["a": Self.json("3")], remove: [], expiresAt: 15)
        let state = batch.state.withLock { ($0.set, $0.remove, $0.expiresAt, $0.count) }
        #expect(state.0 == ["a": Self.json("3"), "b": Self.json("1"), "c": Self.json("2")])
        #expect(state.1 == ["d"])
        #expect(state.2 == 15 && state.3 == 3)
    }

    /// 200 concurrent writes to one session, each setting a key of its own, half of them from a
    /// loaded revision: all 200 keys are there, and writes went in batches.
    @Test func concurrentWritesToOneSessionLoseNothing() async throws {
        try await PostgresTestDatabase.with { database in
            let store = database.makeStore(wire: true)
            let key = SessionID().storageKey
            let now = SessionClock.system()
            try await store.create(key, Self.session(now, ["first": Self.json("0")]))
            let loaded = try #require(try await store.load(key))
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let delta = SessionDelta.update(set: ["k\(index)": Self.json("\(index)")], remove: [])
                        return index % 2 == 0
                            ? try await store.apply(delta, to: key, expiresAt: now + 7200, loaded: loaded)
                            : try await store.apply(delta, to: key, expiresAt: now + 7200)
                    }
                }
                for try await stillThere in group { #expect(stillThere) }
            }
            let values = try #require(try await store.load(key)).values
            #expect(values.count == 201)
            for index in 0..<200 { #expect(values["k\(index)"] == Self.json("\(index)")) }
            let counts = store.writeCoalescer.counts
            #expect(counts.batches > 0 && counts.writes > counts.batches, "no write waited in a batch: \(counts)")
        }
    }

    /// A session deleted while writes queue for it: none brings it back.
    @Test func aGoneSessionStaysGone() async throws {
        try await PostgresTestDatabase.with { database in
            let store = database.makeStore(wire: true)
            let key = SessionID().storageKey
            let now = SessionClock.system()
            try await store.create(key, Self.session(now))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        if index == 10 { try await store.delete(key); return }
                        _ = try await store.apply(.update(set: ["k\(index)": Self.json("1")], remove: []), to: key, expiresAt: now + 7200)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.load(key) == nil)
            #expect(try await !store.apply(.update(set: ["late": Self.json("1")], remove: []), to: key, expiresAt: now + 7200))
            #expect(try await store.load(key) == nil)
        }
    }

    /// The statement fails (the merge function raises): every write of every batch fails with the
    /// store's error, and none is left waiting.
    @Test func aFailingStatementFailsEveryWriteOfItsBatch() async throws {
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            let store = database.makeStore(schema: schema, wire: true)
            let key = SessionID().storageKey
            let now = SessionClock.system()
            try await store.create(key, Self.session(now))
            try await PostgresLoadedApplyTests.breakTheMergeFunction(database, schema: schema)
            let failures = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        do {
                            _ = try await store.apply(.update(set: ["k\(index)": Self.json("1")], remove: []), to: key, expiresAt: now + 7200)
                            return false
                        } catch is SessionStoreError {
                            return true
                        }
                    }
                }
                var failures = 0
                for try await failed in group where failed { failures += 1 }
                return failures
            }
            #expect(failures == 60)
            #expect(try await store.load(key)?.values == [:])
        }
    }
}
