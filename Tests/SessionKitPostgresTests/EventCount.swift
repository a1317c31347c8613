import SessionKitTesting
import Synchronization

/// Counts events that other tasks record, and lets a test wait for a number of them, giving up
/// after a while: a liveness bound, not a speed goal (a wait that never ends fails the test
/// instead of hanging the suite).
///
/// ```swift
/// let expired = EventCount()
/// _ = watchdog.watch { expired.record() }
/// try await expired.wait()
/// #expect(expired.value == 1)
/// ```
final class EventCount: Sendable {
    private let count = Atomic<Int>(0)

    /// How many events have been recorded.
    var value: Int { count.load(ordering: .acquiring) }

    /// Whether at least one event has been recorded.
    var happened: Bool { value > 0 }

    func record() { count.add(1, ordering: .releasing) }

    /// Waits until `expected` events have been recorded, or `limit` (times `SESSIONKIT_TIME_SCALE`,
    /// see ``TestTimeScale``) has passed.
    func wait(for expected: Int = 1, givingUpAfter limit: Duration = .seconds(30)) async throws {
        let giveUp = ContinuousClock.now + TestTimeScale.limit(limit)
        while value < expected, ContinuousClock.now < giveUp {
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
