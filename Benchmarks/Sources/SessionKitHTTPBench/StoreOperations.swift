// `--store-operations read|write`: a variant's store alone, without HTTP (Benchmarks/http/client-cpu).
//
// Creates one session for each of C tasks (`--concurrency`, default 32, as wrk's connections), then
// each task loads its session (`read`: one round trip to a shared store) or loads it and writes a
// changed counter (`write`: two, as `/write` makes them) until N operations are done in all
// (`--operations`, default 100000; a tenth more first as a warm-up). Prints the operations a
// second and the process's CPU time (user + system, every thread) per operation: what this
// process spends on a store operation, its client included, beside the engine's own load tool
// doing the same operation (redis-benchmark, pgbench), whose CPU the script measures the same way.
import Foundation
import ServiceLifecycle
import SessionKit

let storeOperations: (operation: String, count: Int, concurrency: Int)? = argument("--store-operations").map {
    ($0, argument("--operations").flatMap(Int.init) ?? 100_000, argument("--concurrency").flatMap(Int.init) ?? 32)
}

/// The process's user and system CPU time so far, in microseconds.
func processCPUMicroseconds() -> (user: Double, system: Double) {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage) // Glibc imports RUSAGE_SELF as an enum case
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func microseconds(_ time: timeval) -> Double { Double(time.tv_sec) * 1e6 + Double(time.tv_usec) }
    return (microseconds(usage.ru_utime), microseconds(usage.ru_stime))
}

/// Measures `store` as the header says, with `services` (its connection pool) running beside.
func measureStoreOperations(_ store: some SessionStore, services: [any Service]) async throws {
    guard let (operation, count, concurrency) = storeOperations, ["read", "write"].contains(operation), concurrency > 0 else {
        FileHandle.standardError.write(Data("--store-operations takes read or write\n".utf8))
        exit(2)
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for service in services {
            group.addTask { try await service.run() }
        }
        let now = Int64(Date().timeIntervalSince1970)
        var keys: [SessionStorageKey] = []
        for _ in 0..<concurrency {
            let key = SessionStorageKey(bytes: (0..<SessionStorageKey.byteCount).map { _ in UInt8.random(in: .min ... .max) })!
            let values = ["user": try SessionValue(encoding: "user-42"), "counter": try SessionValue(encoding: 0)]
            try await store.create(key, StoredSession(values: values, createdAt: now, expiresAt: now + 1800, absoluteExpiresAt: now + 86_400))
            keys.append(key)
        }
        try await driveStoreOperations(store, keys: keys, writing: operation == "write", count: count / 10, expiresAt: now + 1800)
        let start = processCPUMicroseconds()
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            try await driveStoreOperations(store, keys: keys, writing: operation == "write", count: count, expiresAt: now + 1800)
        }
        let end = processCPUMicroseconds()
        let done = Double(count / concurrency * concurrency)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print(String(format: "%@ %@: %.0f operations/s, CPU per operation: user %.2f µs, system %.2f µs, total %.2f µs",
                     variant, operation, done / seconds, (end.user - start.user) / done, (end.system - start.system) / done,
                     (end.user - start.user + end.system - start.system) / done))
        for key in keys { try await store.delete(key) }
        group.cancelAll()
    }
}

/// Each key's task loads its session (and with `writing`, writes the next counter) count / keys times.
func driveStoreOperations(_ store: some SessionStore, keys: [SessionStorageKey], writing: Bool, count: Int, expiresAt: Int64) async throws {
    let share = count / keys.count
    try await withThrowingTaskGroup(of: Void.self) { group in
        for key in keys {
            group.addTask {
                for index in 0..<share {
                    guard try await store.load(key) != nil else { throw SessionStoreError(.corruptRecord, "a benchmark session disappeared") }
                    if writing {
                        let changed = try await store.apply(.update(set: ["counter": try SessionValue(encoding: index)], remove: []), to: key, expiresAt: expiresAt)
                        guard changed else { throw SessionStoreError(.corruptRecord, "a benchmark session disappeared") }
                    }
                }
            }
        }
        try await group.waitForAll()
    }
}
