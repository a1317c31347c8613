import Foundation
import SessionKit
import SessionKitPostgres
import SessionKitTesting
import Testing

/// Quick throughput numbers against the server in `SESSIONKIT_POSTGRES_URL`, off by default
/// (timing assertions would flake):
/// `SESSIONKIT_BENCH=1 SESSIONKIT_ONLY=postgres swift test -c release -Xswiftc -enable-testing --filter PostgresSessionStoreBenchmarks`
@Suite(
    "PostgresSessionStoreBenchmarks",
    .enabled(if: ProcessInfo.processInfo.environment["SESSIONKIT_BENCH"] != nil && PostgresTestDatabase.isConfigured)
)
struct PostgresSessionStoreBenchmarks {

    @Test func throughput() async throws {
        try await PostgresTestDatabase.with { database in
            let store = database.makeStore()
            try await store.migrate()
            let now = SessionClock.system()
            let values = ["username": SessionValue(json: Array("\"alice\"".utf8)), "_permanent": SessionValue(json: Array("true".utf8))]
            let keys = (0..<20_000).map { _ in SessionID().storageKey }
            for tasks in [1, 8] {
                let label = "\(tasks) task\(tasks == 1 ? "" : "s"), 8 connections"
                let count = tasks == 1 ? 2_000 : keys.count - 2_000
                let offset = tasks == 1 ? keys.count - count : 0
                let creates = try await StoreThroughput.measure(operations: count, tasks: tasks) { index in
                    try await store.create(keys[offset + index], StoredSession(values: values, createdAt: now, expiresAt: now + 3600, absoluteExpiresAt: now + 86_400))
                }
                let loads = try await StoreThroughput.measure(operations: count, tasks: tasks) { index in
                    _ = try await store.load(keys[offset + index])
                }
                let applies = try await StoreThroughput.measure(operations: count, tasks: tasks) { index in
                    _ = try await store.apply(.update(set: ["n": SessionValue(json: Array("\(index)".utf8))], remove: []), to: keys[offset + index], expiresAt: now + 3600)
                }
                let touches = try await StoreThroughput.measure(operations: count, tasks: tasks) { index in
                    _ = try await store.touch(keys[offset + index], expiresAt: now + 3600)
                }
                print("postgres (\(label)): create \(Int(creates)), load \(Int(loads)), apply \(Int(applies)), touch \(Int(touches)) ops/s")
            }
            let hot = keys[0]
            let contended = try await StoreThroughput.measure(operations: 2_000, tasks: 8) { index in
                _ = try await store.apply(.update(set: ["k\(index % 50)": SessionValue(json: Array("\(index)".utf8))], remove: []), to: hot, expiresAt: now + 3600)
            }
            print("postgres: apply to one session from 8 tasks \(Int(contended)) ops/s")
        }
    }
}
