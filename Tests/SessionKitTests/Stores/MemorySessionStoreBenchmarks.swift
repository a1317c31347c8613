import Foundation
import SessionKitTesting
import Testing
@testable import SessionKit

/// Quick throughput and footprint numbers, off by default (timing assertions would flake):
/// `SESSIONKIT_BENCH=1 SESSIONKIT_ONLY=core swift test -c release -Xswiftc -enable-testing --filter MemorySessionStoreBenchmarks`
@Suite("MemorySessionStoreBenchmarks", .enabled(if: ProcessInfo.processInfo.environment["SESSIONKIT_BENCH"] != nil))
struct MemorySessionStoreBenchmarks {
    @Test func oneMillionSessions() async throws {
        let count = 1_000_000
        let clock = ContractClock(SessionClock.system())
        let store = MemorySessionStore(configuration: .init(maximumSessions: 2_000_000), clock: clock.function)
        let now = clock.now
        let keys = (0..<count).map { _ in SessionID().storageKey }
        let before = MemorySessionStoreTests.residentBytes() ?? 0
        let createStart = ContinuousClock.now
        for (index, key) in keys.enumerated() {
            // A small session: a user name and the permanent flag; 10% expire in 60 seconds.
            let session = StoredSession(
                values: ["username": SessionValue(json: Array("\"user\(index)\"".utf8)), "_permanent": SessionValue(json: Array("true".utf8))],
                createdAt: now, expiresAt: now + (index % 10 == 0 ? 60 : 3600), absoluteExpiresAt: now + 86_400
            )
            try await store.create(key, session)
        }
        let createSeconds = StoreThroughput.seconds(ContinuousClock.now - createStart)
        let after = MemorySessionStoreTests.residentBytes() ?? 0
        let keyArrayBytes = count * MemoryLayout<SessionStorageKey>.stride
        print("memory: created \(count) sessions in \(String(format: "%.2f", createSeconds)) s; RSS grew \((after - before) / 1_000_000) MB (of which \(keyArrayBytes / 1_000_000) MB is the benchmark's own key array)")

        // Writes go to the long-lived sessions only, so that exactly the 100k short ones expire.
        @Sendable func longLived(_ index: Int) -> SessionStorageKey {
            let slot = (index &* 7919) % count
            return keys[slot % 10 == 0 ? slot + 1 : slot]
        }
        let loads = try await StoreThroughput.measure(operations: 1_000_000, tasks: 4) { index in
            _ = try await store.load(keys[(index &* 7919) % count])
        }
        print("memory: load \(Int(loads)) ops/s (4 tasks)")
        let applies = try await StoreThroughput.measure(operations: 500_000, tasks: 4) { index in
            _ = try await store.apply(.update(set: ["n": SessionValue(json: Array("\(index)".utf8))], remove: []), to: longLived(index), expiresAt: now + 3600)
        }
        print("memory: apply \(Int(applies)) ops/s (4 tasks)")
        let touches = try await StoreThroughput.measure(operations: 1_000_000, tasks: 4) { index in
            _ = try await store.touch(longLived(index), expiresAt: now + 3600)
        }
        print("memory: touch \(Int(touches)) ops/s (4 tasks)")

        // Only the 100k sessions with the short idle timeout expire.
        clock.advance(by: 120)
        let cleanupStart = ContinuousClock.now
        let removed = try await store.removeExpired()
        print("memory: removeExpired removed \(removed) of \(count) in \(String(format: "%.3f", StoreThroughput.seconds(ContinuousClock.now - cleanupStart))) s")
        #expect(removed == count / 10)
    }
}
