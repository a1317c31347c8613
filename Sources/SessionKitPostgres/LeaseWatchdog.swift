import Synchronization

/// One timer for every connection lease of a store: each lease registers its deadline and what to
/// do when it passes, and a single task sleeps until the earliest deadline, calls the expired
/// ones and sleeps again.
///
/// A timer per lease (`Task.sleep` in a task of its own) armed a dispatch timer for every query,
/// and arming one wakes libdispatch's manager thread: measured, a few percent of a PostgreSQL
/// `/read`'s CPU. A lease is registered from its wait for a connection (usually no wait at all) to
/// the end of its statements (``LeasedConnection``), a fraction of a millisecond, so the
/// watchdog's task usually wakes once per timeout, finds nothing expired, and sleeps until the
/// deadline of the oldest lease still registered. It ends when no lease is registered and starts
/// again with the next one.
///
/// Deadlines are those of one store, all `timeout` after their registration, so a new lease's
/// deadline is never earlier than those already registered; the watchdog still looks at every
/// registered lease when it wakes.
///
/// ```swift
/// let watchdog = LeaseWatchdog(timeout: .seconds(5))
/// let ticket = watchdog.watch { task.cancel() }      // called once, if the timeout passes first
/// defer { watchdog.unwatch(ticket) }
/// ```
final class LeaseWatchdog: Sendable {
    private struct Entry {
        let deadline: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextTicket: UInt64 = 0
        /// The watchdog's task is running (or about to).
        var running = false
    }

    /// How long a lease may wait before `expire` is called.
    let timeout: Duration
    private let state = Mutex(State())
    private let expired = Atomic<Int>(0)

    init(timeout: Duration) {
        self.timeout = timeout
    }

    /// How many leases have expired (for tests).
    var expiredCount: Int { expired.load(ordering: .relaxed) }

    /// How many leases are registered (for tests).
    var watchedCount: Int { state.withLock { $0.entries.count } }

    /// Registers a lease: `expire` is called once, on the watchdog's task, when ``timeout`` passes
    /// before ``unwatch(_:)``. Returns the ticket that unregisters it.
    func watch(_ expire: @escaping @Sendable () -> Void) -> UInt64 {
        let entry = Entry(deadline: .now + timeout, expire: expire)
        let (ticket, start) = state.withLock { state -> (UInt64, Bool) in
            let ticket = state.nextTicket
            state.nextTicket &+= 1
            state.entries[ticket] = entry
            defer { state.running = true }
            return (ticket, !state.running)
        }
        if start {
            Task.detached { await self.run() }
        }
        return ticket
    }

    /// Unregisters a lease; its `expire` is not called after this returns (unless it was already).
    func unwatch(_ ticket: UInt64) {
        _ = state.withLock { $0.entries.removeValue(forKey: ticket) }
    }

    /// Sleeps until the earliest deadline, calls the expired leases, and ends when none is left.
    private func run() async {
        while true {
            let next = state.withLock { state -> ContinuousClock.Instant? in
                guard let earliest = state.entries.values.lazy.map(\.deadline).min() else {
                    state.running = false
                    return nil
                }
                return earliest
            }
            guard let next else { return }
            try? await Task.sleep(until: next, clock: .continuous)
            let now = ContinuousClock.now
            let due = state.withLock { state -> [Entry] in
                let due = state.entries.filter { $0.value.deadline <= now }
                for ticket in due.keys { state.entries.removeValue(forKey: ticket) }
                return Array(due.values)
            }
            for entry in due { entry.expire() }
            expired.add(due.count, ordering: .relaxed)
        }
    }
}
