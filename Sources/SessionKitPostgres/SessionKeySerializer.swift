import SessionKit
import Synchronization

/// Runs the operations on one session key one at a time within this process, in arrival order;
/// operations on different keys run concurrently.
///
/// The PostgreSQL store's key-level merge reads a session's values, merges a delta in and writes
/// them back only if they are unchanged. When many requests of one process write the same session
/// at once, all but one of them lose that race and take the locked fallback path (a transaction
/// with `SELECT … FOR UPDATE`). Queueing them here first makes each one's optimistic attempt
/// succeed; the database-level checks stay as they are for writers in other processes.
///
/// A waiter is not cancellable: it waits for the operation ahead of it, which is bounded by the
/// connection's own timeouts.
///
/// ```swift
/// let serializer = SessionKeySerializer()
/// let merged = try await serializer.run(key) { try await mergeIntoStoredValues() }
/// ```
final class SessionKeySerializer: Sendable {
    /// For each key being worked on, the operations waiting behind the current one.
    private let waiting = Mutex<[SessionStorageKey: [CheckedContinuation<Void, Never>]]>([:])

    init() {}

    /// Runs `body` once no earlier operation on `key` is running.
    func run<Result: Sendable>(_ key: SessionStorageKey, _ body: () async throws -> Result) async throws -> Result {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let mayRun = waiting.withLock { waiting -> Bool in
                if waiting[key] != nil {
                    waiting[key]!.append(continuation)
                    return false
                }
                waiting[key] = []
                return true
            }
            if mayRun { continuation.resume() }
        }
        defer { handOver(key) }
        return try await body()
    }

    /// The number of keys with an operation running (for tests).
    var busyKeys: Int { waiting.withLock { $0.count } }

    private func handOver(_ key: SessionStorageKey) {
        let next = waiting.withLock { waiting -> CheckedContinuation<Void, Never>? in
            guard var queue = waiting[key], !queue.isEmpty else {
                waiting[key] = nil
                return nil
            }
            let next = queue.removeFirst()
            waiting[key] = queue
            return next
        }
        next?.resume()
    }
}
