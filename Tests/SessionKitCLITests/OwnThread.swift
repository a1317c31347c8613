import Foundation

/// Blocking work (waiting for a child process) on a thread of its own, awaited without holding one
/// of the threads Swift concurrency runs every test on: the suite runs its tests in parallel on a
/// pool as large as the machine's cores, so two tests blocked in `waitUntilExit` on a two-core
/// machine stall every other test meanwhile.
///
/// ```swift
/// let status = try await OwnThread.run { process.waitUntilExit(); return process.terminationStatus }
/// ```
enum OwnThread {
    static func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
