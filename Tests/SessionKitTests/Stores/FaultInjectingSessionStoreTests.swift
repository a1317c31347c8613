import SessionKitTesting
import Testing
@testable import SessionKit

@Suite("FaultInjectingSessionStore")
struct FaultInjectingSessionStoreTests {
    @Test(arguments: SessionStoreContract.allChecks.filter { $0.name != "userIndex" })
    func contractWhenHealthy(_ check: SessionStoreContractCheck) async throws {
        try await check.run { clock in FaultInjectingSessionStore(MemorySessionStore(clock: clock)) }
    }

    static func session() -> StoredSession {
        let now = SessionClock.system()
        return StoredSession(values: [:], createdAt: now, expiresAt: now + 60, absoluteExpiresAt: now + 600)
    }

    @Test func failsChosenOperationsAndCountsCalls() async throws {
        let store = FaultInjectingSessionStore(MemorySessionStore())
        let key = SessionID().storageKey
        try await store.create(key, Self.session())
        store.fail([.load, .apply])
        await #expect(throws: SessionStoreError.self) { _ = try await store.load(key) }
        await #expect(throws: SessionStoreError.self) { _ = try await store.apply(.replaceAll([:]), to: key, expiresAt: 0) }
        #expect(try await store.touch(key, expiresAt: SessionClock.system() + 60))
        store.heal()
        #expect(try await store.load(key) != nil)
        #expect(store.callCount(.load) == 2)
        #expect(store.callCount(.apply) == 1)
        #expect(store.writeCount == 3)      // create, apply (failed), touch
        store.resetCounts()
        _ = try await store.load(key)
        #expect(store.writeCount == 0)
        #expect(store.totalCount == 1)
    }

    @Test func failureRateIsReproducible() async throws {
        func failures(seed: UInt64) async -> [Bool] {
            let store = FaultInjectingSessionStore(MemorySessionStore(), seed: seed)
            store.setFailureRate(0.3, for: [.load])
            var result: [Bool] = []
            for _ in 0..<200 {
                do { _ = try await store.load(SessionID().storageKey); result.append(false) } catch { result.append(true) }
            }
            return result
        }
        let first = await failures(seed: 42)
        #expect(first == (await failures(seed: 42)))
        let count = first.filter { $0 }.count
        #expect(count > 30 && count < 90)
    }

    @Test func injectsLatency() async throws {
        let store = FaultInjectingSessionStore(MemorySessionStore())
        store.setLatency(.milliseconds(50), for: [.load])
        let start = ContinuousClock.now
        _ = try await store.load(SessionID().storageKey)
        #expect(ContinuousClock.now - start >= .milliseconds(50))
    }

    @Test func throwsTheConfiguredError() async throws {
        struct Down: Error {}
        let store = FaultInjectingSessionStore(MemorySessionStore(), error: Down())
        store.fail([.delete])
        await #expect(throws: Down.self) { try await store.delete(SessionID().storageKey) }
    }
}

@Suite("FaultInjectingSessionStore holding")
struct FaultInjectingSessionStoreHoldTests {
    @Test func holdsCallsUntilReleased() async throws {
        let store = FaultInjectingSessionStore(MemorySessionStore())
        let key = SessionID().storageKey
        let now = SessionClock.system()
        // Deadlines far off: under a loaded parallel run this test has taken over a minute.
        try await store.create(key, StoredSession(values: [:], createdAt: now, expiresAt: now + 3600, absoluteExpiresAt: now + 7200))
        store.hold([.apply])
        async let applied = store.apply(.update(set: ["a": SessionValue(json: Array("1".utf8))], remove: []), to: key, expiresAt: now + 3600)
        await store.waitForHeldCalls(1)
        #expect(try await store.load(key)?.values.isEmpty == true)   // not applied yet; loads are not held
        store.release()
        #expect(try await applied)
        #expect(try await store.load(key)?.values.count == 1)
        // Not held any more.
        #expect(try await store.apply(.replaceAll([:]), to: key, expiresAt: now + 3600))
    }
}
