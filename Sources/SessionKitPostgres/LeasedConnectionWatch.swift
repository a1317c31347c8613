import PostgresNIO
import Synchronization

/// Answers a lease's caller when the connection closes under a body that will then never end.
///
/// postgres-nio (1.33) drops a statement written to a connection whose channel has already closed
/// and taken its handlers down: the write fails with no promise to tell, the statement's own
/// promise is never completed, and `query` or `execute` never returns. The pool can lease such a
/// connection in the moment between the server closing it (PostgreSQL stopping,
/// `pg_terminate_backend`, a dropped link) and the pool hearing of it. The fleet's outage tests
/// saw it: one request in several thousand, sent as PostgreSQL stopped, got no answer in 20 s
/// instead of a 503.
///
/// While a body runs, the watch looks at its connection each time the `watchdog`'s timeout
/// passes. A connection seen closed at two looks in a row, with the body still running, is one
/// the body will never hear from again: `lost` is called, once, and the caller answers
/// ``/SessionKit/SessionStoreError/Code/unavailable``. (A statement that ends normally, or fails
/// as the connection closes, ends its body long before the second look.) The body's task stays
/// suspended: nothing can resume a promise that postgres-nio has let go of.
///
/// ```swift
/// let watch = LeasedConnectionWatch(connection: connection, watchdog: watchdog) {
///     outcome.finish(.failure(LeasedConnectionClosed()))
/// }
/// watch.start()
/// defer { watch.stop() }
/// return try await body(connection)
/// ```
final class LeasedConnectionWatch: Sendable {
    private struct State {
        var ticket: UInt64?
        var stopped = false
        /// The connection was closed at the last look.
        var seenClosed = false
    }

    private let connection: PostgresConnection
    private let watchdog: LeaseWatchdog
    private let lost: @Sendable () -> Void
    private let state = Mutex(State())

    init(connection: PostgresConnection, watchdog: LeaseWatchdog, lost: @escaping @Sendable () -> Void) {
        self.connection = connection
        self.watchdog = watchdog
        self.lost = lost
    }

    /// Starts watching (call once, before the body runs).
    func start() {
        let ticket = watchdog.watch { [self] in look() }
        let stopped = state.withLock { state -> Bool in
            if !state.stopped { state.ticket = ticket }
            return state.stopped
        }
        if stopped { watchdog.unwatch(ticket) }
    }

    /// Stops watching; `lost` is not called after this returns (unless it already was).
    func stop() {
        let ticket = state.withLock { state -> UInt64? in
            state.stopped = true
            defer { state.ticket = nil }
            return state.ticket
        }
        if let ticket { watchdog.unwatch(ticket) }
    }

    private func look() {
        enum Next { case done, lost, again }
        let closed = connection.isClosed
        let next = state.withLock { state -> Next in
            guard !state.stopped else { return .done }
            state.ticket = nil
            if closed && state.seenClosed {
                state.stopped = true
                return .lost
            }
            state.seenClosed = closed
            return .again
        }
        switch next {
        case .done: break
        case .lost: lost()
        case .again: start()
        }
    }
}

/// The connection closed under a running body that postgres-nio will never answer (see
/// ``LeasedConnectionWatch``).
struct LeasedConnectionClosed: Error {}
