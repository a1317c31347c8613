import Foundation
import Logging
import ServiceLifecycle
import SessionKitTesting
import Synchronization
import Testing
@testable import SessionKit

@Suite("MemorySessionStore")
struct MemorySessionStoreTests {
    @Test(arguments: SessionStoreContract.allChecks)
    func contract(_ check: SessionStoreContractCheck) async throws {
        try await check.run { clock in MemorySessionStore(clock: clock) }
    }

    @Test(arguments: SessionStoreContract.allChecks)
    func contractWithOneTinyShard(_ check: SessionStoreContractCheck) async throws {
        try await check.run { clock in MemorySessionStore(configuration: .init(shardCount: 1), clock: clock) }
    }

    static func session(_ now: Int64, idle: Int64 = 1800, user: String? = nil) -> StoredSession {
        var values: [String: SessionValue] = ["n": SessionValue(json: Array("1".utf8))]
        if let user { values[StoredSession.userIDKey] = SessionValue(flask: .string(user)) }
        return StoredSession(values: values, createdAt: now, expiresAt: now + idle, absoluteExpiresAt: now + 86_400)
    }

    @Test func evictsTheLeastRecentlyUsedBeyondTheMaximum() async throws {
        let clock = ContractClock()
        let store = MemorySessionStore(configuration: .init(maximumSessions: 3, shardCount: 1), clock: clock.function)
        let keys = (0..<3).map { _ in SessionID().storageKey }
        for key in keys { try await store.create(key, Self.session(clock.now, user: "u")) }
        _ = try await store.load(keys[0])           // keys[1] is now the least recently used
        let fourth = SessionID().storageKey
        try await store.create(fourth, Self.session(clock.now, user: "u"))
        #expect(store.count == 3)
        #expect(try await store.load(keys[1]) == nil)
        #expect(try await store.load(keys[0]) != nil)
        #expect(try await store.load(fourth) != nil)
        #expect(Set(try await store.sessions(ofUser: "u").map(\.key)) == [keys[0], keys[2], fourth])
    }

    @Test func aSmallMaximumHoldsWithDefaultShards() async throws {
        let clock = ContractClock()
        let store = MemorySessionStore(configuration: .init(maximumSessions: 10), clock: clock.function)
        for _ in 0..<50 { try await store.create(SessionID().storageKey, Self.session(clock.now)) }
        #expect(store.count == 10)
    }

    @Test func evictsExpiredSessionsBeforeLiveOnes() async throws {
        let clock = ContractClock()
        let store = MemorySessionStore(configuration: .init(maximumSessions: 2, shardCount: 1), clock: clock.function)
        let live = SessionID().storageKey
        let expiring = SessionID().storageKey
        try await store.create(live, Self.session(clock.now))
        try await store.create(expiring, Self.session(clock.now, idle: 5))
        _ = try await store.load(expiring)           // most recently used, but about to expire
        clock.advance(by: 10)
        try await store.create(SessionID().storageKey, Self.session(clock.now))
        #expect(try await store.load(live) != nil)
        #expect(store.count == 2)
    }

    @Test func cleanupScalesWithExpiredSessions() async throws {
        let clock = ContractClock()
        let store = MemorySessionStore(clock: clock.function)
        for index in 0..<5000 {
            try await store.create(SessionID().storageKey, Self.session(clock.now, idle: index < 1000 ? 30 : 3600))
        }
        // Sliding expiry moves sessions between buckets; stale bucket numbers must not confuse cleanup.
        clock.advance(by: 20)
        #expect(try await store.removeExpired() == 0)
        clock.advance(by: 10)
        #expect(try await store.removeExpired() == 1000)
        #expect(store.count == 4000)
        clock.advance(by: 3570)
        #expect(try await store.removeExpired() == 4000)
        #expect(store.count == 0)
    }

    @Test func touchesAcrossBucketsKeepCleanupExact() async throws {
        let clock = ContractClock()
        let store = MemorySessionStore(configuration: .init(shardCount: 1), clock: clock.function)
        let keys = (0..<200).map { _ in SessionID().storageKey }
        for key in keys { try await store.create(key, Self.session(clock.now, idle: 10)) }
        for round in 0..<50 {
            clock.advance(by: 3)
            for (index, key) in keys.enumerated() where index % 2 == 0 || round < 2 {
                #expect(try await store.touch(key, expiresAt: clock.now + 10))
            }
        }
        // The odd sessions stopped being touched long ago.
        #expect(try await store.removeExpired() == 100)
        clock.advance(by: 9)
        #expect(try await store.removeExpired() == 0)
        clock.advance(by: 1)
        #expect(try await store.removeExpired() == 100)
    }

    @Test func cleanupServiceStopsOnGracefulShutdown() async throws {
        let clock = ContractClock()
        let store = MemorySessionStore(configuration: .init(cleanupInterval: .milliseconds(10)), clock: clock.function)
        try await store.create(SessionID().storageKey, Self.session(clock.now, idle: 5))
        clock.advance(by: 10)
        try await withThrowingTaskGroup(of: Void.self) { group in
            let (gracefulShutdownStream, continuation) = AsyncStream<Void>.makeStream()
            group.addTask {
                let group = ServiceGroup(configuration: .init(services: [store], gracefulShutdownSignals: [], logger: .init(label: "test")))
                try await withThrowingTaskGroup(of: Void.self) { inner in
                    inner.addTask { try await group.run() }
                    for await _ in gracefulShutdownStream { break }
                    await group.triggerGracefulShutdown()
                    try await inner.waitForAll()
                }
            }
            while store.count > 0 { try await Task.sleep(for: .milliseconds(5)) }
            continuation.yield()
            continuation.finish()
            try await group.waitForAll()
        }
        #expect(store.count == 0)
    }

    @Test func cleanupServiceStopsOnCancellation() async throws {
        let store = MemorySessionStore(configuration: .init(cleanupInterval: .seconds(3600)))
        let task = Task { try await store.run() }
        try await Task.sleep(for: .milliseconds(20))
        task.cancel()
        try await task.value
    }

    /// Users' lists of sessions against a model, through creates, user changes (log in, switch,
    /// log out), deletes, renames, evictions of nothing, expiry and revocations in random order.
    @Test(arguments: [UInt64(11), 12])
    func userListsFollowAModel(seed: UInt64) async throws {
        var random = SplitMix64(seed: seed)
        let clock = ContractClock()
        let store = MemorySessionStore(configuration: .init(shardCount: 2), clock: clock.function)
        let users = ["ada", "bob", "cy", "dee"]
        var model: [SessionStorageKey: String?] = [:]
        func listed(_ user: String) async throws -> Set<SessionStorageKey> {
            Set(try await store.sessions(ofUser: user).map(\.key))
        }
        for step in 0..<600 {
            let user: String? = random.next() % 5 == 0 ? nil : users[Int(random.next() % 4)]
            let keys = Array(model.keys)
            switch random.next() % 6 {
            case 0, 1:
                let key = SessionID().storageKey
                try await store.create(key, Self.session(clock.now, idle: 100_000, user: user))
                model[key] = user
            case 2 where !keys.isEmpty:
                let key = keys.randomElement(using: &random)!
                let delta: SessionDelta = user.map { .update(set: [StoredSession.userIDKey: SessionValue(flask: .string($0))], remove: []) }
                    ?? .update(set: [:], remove: [StoredSession.userIDKey])
                #expect(try await store.apply(delta, to: key, expiresAt: clock.now + 100_000))
                model[key] = user
            case 3 where !keys.isEmpty:
                let key = keys.randomElement(using: &random)!
                try await store.delete(key)
                model[key] = nil
            case 4 where !keys.isEmpty:
                let key = keys.randomElement(using: &random)!
                let renamed = SessionID().storageKey
                #expect(try await store.rename(key, to: renamed))
                model[renamed] = model.removeValue(forKey: key)!
            case 5 where step % 7 == 0:
                let victim = users[Int(random.next() % 4)]
                let keep = model.first { $0.value == victim }?.key
                let expected = model.values.filter { $0 == victim }.count - (keep == nil ? 0 : 1)
                #expect(try await store.revokeSessions(ofUser: victim, except: keep) == expected)
                model = model.filter { $0.value != victim || $0.key == keep }
            default:
                break
            }
            for user in users {
                #expect(try await listed(user) == Set(model.filter { $0.value == user }.keys), "step \(step), \(user)")
            }
        }
        #expect(store.count == model.count)
    }

    /// "Sign out everywhere" while the user's sessions are being renamed (logins regenerating their
    /// IDs): a session renamed from a shard the revocation had not reached yet into one it had
    /// already passed must not survive it.
    @Test func revokingAUsersSessionsIsAtomicWithRespectToRenames() async throws {
        let clock = ContractClock()
        let store = MemorySessionStore(configuration: .init(maximumSessions: 4_000_000, shardCount: 1024), clock: clock.function)
        var survivors = 0
        for round in 0..<200 {
            let user = "user-\(round)"
            var keys: [SessionStorageKey] = []
            for _ in 0..<16 {
                let key = SessionID().storageKey
                try await store.create(key, Self.session(clock.now, user: user))
                keys.append(key)
            }
            let renames = Atomic<Int>(0)
            let renamer = Task { [keys] in
                var current = keys
                while !Task.isCancelled {
                    for index in current.indices {
                        let next = SessionID().storageKey
                        if try await store.rename(current[index], to: next) {
                            current[index] = next
                            renames.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
            while renames.load(ordering: .relaxed) < 32 { await Task.yield() }
            _ = try await store.revokeSessions(ofUser: user)
            // Whatever the renamer does after the revocation returned, it can only fail.
            renamer.cancel()
            try await renamer.value
            survivors += try await store.sessions(ofUser: user).count
        }
        #expect(survivors == 0, "sessions that survived a revocation of all their user's sessions")
    }

    /// User IDs are compared as bytes, as the other stores do: "José" composed (U+00E9) and
    /// decomposed (e + U+0301) are two users, though Swift's `==` calls the strings equal.
    @Test func userIndexKeepsCanonicallyEquivalentUserIDsApart() async throws {
        let clock = ContractClock()
        let store = MemorySessionStore(configuration: .init(shardCount: 1), clock: clock.function)
        let composed = "Jos\u{E9}"
        let decomposed = "Jose\u{301}"
        #expect(composed == decomposed && Array(composed.utf8) != Array(decomposed.utf8))
        let first = SessionID().storageKey
        let second = SessionID().storageKey
        try await store.create(first, Self.session(clock.now, user: composed))
        try await store.create(second, Self.session(clock.now, user: decomposed))
        #expect(try await store.sessions(ofUser: composed).map(\.key) == [first])
        #expect(try await store.sessions(ofUser: decomposed).map(\.key) == [second])
        // A session moved from one to the other changes users.
        let third = SessionID().storageKey
        try await store.create(third, Self.session(clock.now, user: composed))
        #expect(try await store.setUserID(decomposed, for: third, expiresAt: clock.now + 1800))
        #expect(Set(try await store.sessions(ofUser: decomposed).map(\.key)) == [second, third])
        #expect(try await store.sessions(ofUser: composed).map(\.key) == [first])
        // Revoking one user's sessions leaves the other's.
        #expect(try await store.revokeSessions(ofUser: composed) == 1)
        #expect(try await store.load(first) == nil)
        #expect(try await store.load(second) != nil)
        #expect(try await store.load(third) != nil)
        #expect(Set(try await store.sessions(ofUser: decomposed).map(\.key)) == [second, third])
        // User agents, kept once for all the sessions that sent them, come back byte for byte.
        for agent in [composed, decomposed] {
            var session = Self.session(clock.now, user: "agent-test")
            session.userAgent = agent
            try await store.create(SessionID().storageKey, session)
        }
        let agents = try await store.sessions(ofUser: "agent-test").compactMap(\.userAgent).map { Array($0.utf8) }
        #expect(Set(agents) == [Array(composed.utf8), Array(decomposed.utf8)])
    }

    @Test func userAgentsAreKeptOnceAndDroppedWithTheirLastSession() async throws {
        let clock = ContractClock()
        let store = MemorySessionStore(configuration: .init(shardCount: 1), clock: clock.function)
        func session(_ agent: String?, idle: Int64 = 1800, user: String? = nil) -> StoredSession {
            var session = Self.session(clock.now, idle: idle, user: user)
            session.userAgent = agent
            session.ipAddress = agent.map { "198.51.100.\($0.count)" }
            return session
        }
        var keys: [String: [SessionStorageKey]] = [:]
        for agent in ["Firefox/128", "Chrome/131", "Safari/18"] {
            for _ in 0..<5 {
                let key = SessionID().storageKey
                try await store.create(key, session(agent, user: agent == "Safari/18" ? "sam" : nil))
                keys[agent, default: []].append(key)
            }
        }
        let anonymous = SessionID().storageKey
        try await store.create(anonymous, session(nil))
        #expect(store.userAgentCount == 3)
        let loaded = try await store.load(keys["Chrome/131"]![2])
        #expect(loaded?.userAgent == "Chrome/131" && loaded?.ipAddress == "198.51.100.10")
        #expect(try await store.load(anonymous)?.userAgent == nil)
        // Writes and renames keep the agent.
        #expect(try await store.apply(.update(set: ["n": SessionValue(json: Array("2".utf8))], remove: []), to: keys["Firefox/128"]![0], expiresAt: clock.now + 1800))
        let renamed = SessionID().storageKey
        #expect(try await store.rename(keys["Firefox/128"]![1], to: renamed))
        #expect(try await store.load(keys["Firefox/128"]![0])?.userAgent == "Firefox/128")
        #expect(try await store.load(renamed)?.userAgent == "Firefox/128")
        #expect(try await store.sessions(ofUser: "sam").map(\.userAgent) == Array(repeating: "Safari/18", count: 5))
        // Deleting every Chrome session drops its string; revoking drops Safari's.
        for key in keys["Chrome/131"]! { try await store.delete(key) }
        #expect(store.userAgentCount == 2)
        #expect(try await store.revokeSessions(ofUser: "sam", except: nil) == 5)
        #expect(store.userAgentCount == 1)
        // A freed number serves a new agent without mixing it up with the old one.
        let edge = SessionID().storageKey
        try await store.create(edge, session("Edge/131", idle: 10))
        #expect(try await store.load(edge)?.userAgent == "Edge/131")
        #expect(try await store.load(renamed)?.userAgent == "Firefox/128")
        // Expiry removes the rest.
        clock.advance(by: 100_000)
        #expect(try await store.removeExpired() == 7)
        #expect(store.userAgentCount == 0)
    }

    /// A rough footprint check: 100k small sessions stay well under 100 MB (about 250 bytes each).
    /// Not under AddressSanitizer (`ASAN_OPTIONS` set by `scripts/test --sanitize address`): it keeps
    /// freed memory in quarantine and pads every allocation, so the resident size says nothing of
    /// the store's (144 MB in the run of 2026-12-05).
    @Test(.disabled(if: ProcessInfo.processInfo.environment["ASAN_OPTIONS"] != nil, "resident memory under AddressSanitizer measures its quarantine and redzones"))
    func memoryFootprintIsSmall() async throws {
        let before = Self.residentBytes()
        let store = MemorySessionStore()
        let now = SessionClock.system()
        for _ in 0..<100_000 {
            try await store.create(SessionID().storageKey, Self.session(now, user: nil))
        }
        let after = Self.residentBytes()
        #expect(store.count == 100_000)
        if let before, let after {
            #expect(after - before < 100_000_000, "100k sessions took \(after - before) bytes")
        }
    }

    static func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }
}
