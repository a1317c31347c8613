import Foundation
import SessionKit
import SessionKitRedis
import SessionKitTesting
import Testing

/// Quick throughput numbers against the test server, off by default (timing assertions would flake):
/// `SESSIONKIT_BENCH=1 SESSIONKIT_REDIS_URL=... SESSIONKIT_ONLY=redis swift test -c release --filter RedisSessionStoreBenchmarks`
@Suite(
    "RedisSessionStoreBenchmarks", RedisTestServer.enabled,
    .enabled(if: ProcessInfo.processInfo.environment["SESSIONKIT_BENCH"] != nil, "set SESSIONKIT_BENCH=1 to run benchmarks")
)
struct RedisSessionStoreBenchmarks {
    @Test func throughputAndCleanup() async throws {
        try await RedisTestStores.with { stores in
            let clock = ContractClock(SessionClock.system())
            let store = try stores.make(clock: clock.function, configure: { $0.poolSize = 4 })
            let now = clock.now
            let values = ["username": SessionValue(json: Array("\"alice\"".utf8)), "_permanent": SessionValue(json: Array("true".utf8))]
            let tasks = 32
            /// A live key (never one of the sessions that expire) for operation `index`.
            @Sendable func liveKey(_ index: Int) -> Int {
                let key = (index &* 7919) % 50_000
                return key % 10 == 0 ? key + 1 : key
            }
            let keys = (0..<50_000).map { _ in SessionID().storageKey }
            let creates = try await StoreThroughput.measure(operations: keys.count, tasks: tasks) { index in
                // Every tenth session expires after 60 seconds.
                let idle: Int64 = index % 10 == 0 ? 60 : 3600
                try await store.create(keys[index], StoredSession(values: values, createdAt: now, expiresAt: now + idle, absoluteExpiresAt: now + 86_400))
            }
            print("redis: create \(Int(creates)) ops/s (\(tasks) tasks, 4 connections)")
            let loads = try await StoreThroughput.measure(operations: 100_000, tasks: tasks) { index in
                _ = try await store.load(keys[liveKey(index)])
            }
            print("redis: load \(Int(loads)) ops/s (\(tasks) tasks)")
            let applies = try await StoreThroughput.measure(operations: 50_000, tasks: tasks) { index in
                _ = try await store.apply(.update(set: ["n": SessionValue(json: Array("\(index)".utf8))], remove: []), to: keys[liveKey(index)], expiresAt: now + 3600)
            }
            print("redis: apply \(Int(applies)) ops/s (\(tasks) tasks)")
            let touches = try await StoreThroughput.measure(operations: 50_000, tasks: tasks) { index in
                _ = try await store.touch(keys[liveKey(index)], expiresAt: now + 3600)
            }
            print("redis: touch \(Int(touches)) ops/s (\(tasks) tasks)")
            let serialLoads = try await StoreThroughput.measure(operations: 20_000, tasks: 1) { index in
                _ = try await store.load(keys[liveKey(index)])
            }
            print("redis: load \(Int(serialLoads)) ops/s (1 task, round trip bound)")

            clock.advance(by: 120)
            let cleanupStart = ContinuousClock.now
            let removed = try await store.removeExpired()
            print("redis: removeExpired removed \(removed) of \(keys.count) in \(String(format: "%.3f", StoreThroughput.seconds(ContinuousClock.now - cleanupStart))) s (batches of 1000)")
            #expect(removed == keys.count / 10)
        }
    }
}
