import Synchronization

/// A flag raised once, and waits for it that end when it is raised or when the waiting task is
/// cancelled, whichever comes first (`Task.value` and promises wait through cancellation).
///
/// ```swift
/// let stopped = RaisedOnce()
/// Task { await work(); stopped.raise() }
/// await stopped.wait()            // raised, or this task was cancelled
/// if !stopped.isRaised { /* cancelled first */ }
/// ```
final class RaisedOnce: Sendable {
    private struct State {
        var raised = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }
    private let state = Mutex(State())

    init() {}

    /// Whether ``raise()`` was called.
    var isRaised: Bool { state.withLock { $0.raised } }

    /// Raises the flag: every wait ends, and later ones return at once.
    func raise() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.raised = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the flag is raised or the calling task is cancelled.
    func wait() async {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextWaiter &+= 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // Under the lock: a cancellation after this check finds the waiter registered.
                let now = state.withLock { state -> Bool in
                    if state.raised || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
