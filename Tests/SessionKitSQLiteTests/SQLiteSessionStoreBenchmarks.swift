import Foundation
import SQLiteNIO
import SessionKit
import SessionKitSQLite
import SessionKitTesting
import Testing

/// Quick throughput numbers, off by default (timing assertions would flake):
/// `SESSIONKIT_BENCH=1 SESSIONKIT_ONLY=sqlite swift test -c release -Xswiftc -enable-testing --filter SQLiteSessionStoreBenchmarks`
@Suite("SQLiteSessionStoreBenchmarks", .enabled(if: ProcessInfo.processInfo.environment["SESSIONKIT_BENCH"] != nil))
struct SQLiteSessionStoreBenchmarks {
    /// CPU time of the whole process so far (every thread, user and system), in seconds.
    static func cpuSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// CPU microseconds per operation since `start` (a ``cpuSeconds()``), rounded.
    static func cpuMicroseconds(since start: Double, operations: Int) -> Int {
        Int(((cpuSeconds() - start) * 1e6 / Double(operations)).rounded())
    }

    @Test func throughputAndCleanup() async throws {
        try await SQLiteSessionStoreTests.withStores { stores in
            let clock = ContractClock(SessionClock.system())
            let store = stores.make(file: "bench", clock: clock.function)
            try await store.migrate()
            let now = clock.now
            let values = ["username": SessionValue(json: Array("\"alice\"".utf8)), "_permanent": SessionValue(json: Array("true".utf8))]

            // 100k sessions through the API (to have their keys), then 900k filler rows in one statement;
            // 100k of the filler expire after 60 seconds.
            let keys = (0..<100_000).map { _ in SessionID().storageKey }
            let creates = try await StoreThroughput.measure(operations: keys.count, tasks: 8) { index in
                try await store.create(keys[index], StoredSession(values: values, createdAt: now, expiresAt: now + 3600, absoluteExpiresAt: now + 86_400))
            }
            print("sqlite: create \(Int(creates)) ops/s (8 tasks)")
            let raw = try await SQLiteConnection.open(storage: .file(path: store.configuration.path))
            do {
                _ = try await raw.query("PRAGMA busy_timeout = 5000")
                _ = try await raw.query("""
                    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 900000)
                    INSERT INTO sessionkit_sessions (key_hash, data, created_at, last_seen_at, expires_at, absolute_expires_at, sweep_at)
                    SELECT randomblob(32), ?1, ?2, ?2, CASE WHEN i <= 100000 THEN ?2 + 60 ELSE ?2 + 3600 END, ?2 + 86400,
                        CASE WHEN i <= 100000 THEN ?2 + 60 ELSE ?2 + 3600 END FROM c
                    """, [.blob(ByteBuffer(bytes: SessionRecordCoding.encode(values))), .integer(Int(now))])
            } catch {
                try await raw.close()
                throw error
            }
            try await raw.close()

            var cpu = Self.cpuSeconds()
            let loads = try await StoreThroughput.measure(operations: 100_000, tasks: 8) { index in
                _ = try await store.load(keys[(index &* 7919) % keys.count])
            }
            print("sqlite: load \(Int(loads)) ops/s (8 tasks, 1M rows), \(Self.cpuMicroseconds(since: cpu, operations: 100_000)) µs CPU/op")
            cpu = Self.cpuSeconds()
            let applies = try await StoreThroughput.measure(operations: 50_000, tasks: 8) { index in
                _ = try await store.apply(.update(set: ["n": SessionValue(json: Array("\(index)".utf8))], remove: []), to: keys[(index &* 7919) % keys.count], expiresAt: now + 3600)
            }
            print("sqlite: apply \(Int(applies)) ops/s (8 tasks, 1M rows), \(Self.cpuMicroseconds(since: cpu, operations: 50_000)) µs CPU/op")
            cpu = Self.cpuSeconds()
            let contendedApplies = try await StoreThroughput.measure(operations: 50_000, tasks: 32) { index in
                _ = try await store.apply(.update(set: ["n": SessionValue(json: Array("\(index)".utf8))], remove: []), to: keys[(index &* 7919) % keys.count], expiresAt: now + 3600)
            }
            print("sqlite: apply \(Int(contendedApplies)) ops/s (32 tasks, 1M rows), \(Self.cpuMicroseconds(since: cpu, operations: 50_000)) µs CPU/op")
            // What a server's `/write` does per request: load, then apply a change.
            cpu = Self.cpuSeconds()
            let writes = try await StoreThroughput.measure(operations: 50_000, tasks: 32) { index in
                let key = keys[(index &* 7919) % keys.count]
                _ = try await store.load(key)
                _ = try await store.apply(.update(set: ["n": SessionValue(json: Array("\(index)".utf8))], remove: []), to: key, expiresAt: now + 3600)
            }
            print("sqlite: load+apply \(Int(writes)) ops/s (32 tasks, 1M rows), \(Self.cpuMicroseconds(since: cpu, operations: 50_000)) µs CPU/op")
            // As an HTTP benchmark's clients do: each task keeps to a session of its own (a few hot pages).
            cpu = Self.cpuSeconds()
            let hotApplies = try await StoreThroughput.measure(operations: 50_000, tasks: 32) { index in
                _ = try await store.apply(.update(set: ["n": SessionValue(json: Array("\(index)".utf8))], remove: []), to: keys[index % 32], expiresAt: now + 3600)
            }
            print("sqlite: apply \(Int(hotApplies)) ops/s (32 tasks, a session each), \(Self.cpuMicroseconds(since: cpu, operations: 50_000)) µs CPU/op")
            cpu = Self.cpuSeconds()
            let hotWrites = try await StoreThroughput.measure(operations: 50_000, tasks: 32) { index in
                _ = try await store.load(keys[index % 32])
                _ = try await store.apply(.update(set: ["n": SessionValue(json: Array("\(index)".utf8))], remove: []), to: keys[index % 32], expiresAt: now + 3600)
            }
            print("sqlite: load+apply \(Int(hotWrites)) ops/s (32 tasks, a session each), \(Self.cpuMicroseconds(since: cpu, operations: 50_000)) µs CPU/op")
            cpu = Self.cpuSeconds()
            let touches = try await StoreThroughput.measure(operations: 50_000, tasks: 8) { index in
                _ = try await store.touch(keys[(index &* 7919) % keys.count], expiresAt: now + 3600)
            }
            print("sqlite: touch \(Int(touches)) ops/s (8 tasks, 1M rows), \(Self.cpuMicroseconds(since: cpu, operations: 50_000)) µs CPU/op")

            clock.advance(by: 120)
            let cleanupStart = ContinuousClock.now
            let removed = try await store.removeExpired()
            print("sqlite: removeExpired removed \(removed) of 1000000 in \(String(format: "%.3f", StoreThroughput.seconds(ContinuousClock.now - cleanupStart))) s (batches of 1000)")
            #expect(removed == 100_000)
            let size = TestFileStatus(path: store.configuration.path)?.size ?? 0
            print("sqlite: database file \(size / 1_000_000) MB")
        }
    }
}
