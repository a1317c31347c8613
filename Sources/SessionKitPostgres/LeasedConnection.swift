import PostgresNIO
import Synchronization

/// What the store's lease timer knows of one lease: the connection it got, once it has one, and
/// the timer's current ticket.
///
/// The timer (``LeaseWatchdog``) watches a lease from the moment it starts waiting for a
/// connection until its body ends. When ``PostgresSessionStoreConfiguration/connectionTimeout``
/// passes, a lease still waiting fails with the store's timeout; a lease whose body still runs has
/// its connection looked at: closed, the body will never hear from the server again and the caller
/// answers ``/SessionKit/SessionStoreError/Code/unavailable``; open, the timer looks again one
/// timeout later. So every store call ends within its timeout of waiting, or of its connection
/// going away.
///
/// Why a body can wait forever: postgres-nio (1.33) drops a statement written to a connection
/// whose channel has already closed and taken its handlers down (the write fails to no promise;
/// the statement's promise is never completed), and its pool can lease such a connection in the
/// moment between the server closing it (PostgreSQL stopping, `pg_terminate_backend`) and the pool
/// hearing of it. The fleet's outage tests saw it: one request in several thousand, sent as
/// PostgreSQL stopped, got no answer in 20 s instead of a 503. A statement in flight when its
/// connection closes is failed by postgres-nio at once, so a body still running at a look that
/// finds its connection closed can only end in an error: answering for it loses nothing. Its task
/// stays suspended: nothing can resume a promise postgres-nio has let go of.
///
/// ```swift
/// let held = LeasedConnection()
/// held.watch(watchdog) { /* the wait timed out, or look at held.connection */ }
/// defer { held.finish(watchdog) }
/// // in the pool's withConnection: held.set(connection), then the body
/// ```
final class LeasedConnection: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var ticket: UInt64?
        var finished = false
    }

    private let state = Mutex(State())

    init() {}

    /// The lease's connection, once it has one.
    var connection: PostgresConnection? { state.withLock { $0.connection } }

    /// Records the connection the lease got.
    func set(_ connection: PostgresConnection) {
        state.withLock { $0.connection = connection }
    }

    /// Registers `expire` with `watchdog` (it is called once, one timeout from now, unless
    /// ``finish(_:)`` comes first); does nothing once finished.
    func watch(_ watchdog: LeaseWatchdog, _ expire: @escaping @Sendable () -> Void) {
        let ticket = watchdog.watch(expire)
        let finished = state.withLock { state -> Bool in
            if !state.finished { state.ticket = ticket }
            return state.finished
        }
        if finished { watchdog.unwatch(ticket) }
    }

    /// Ends the watching: the timer calls nothing for this lease after this returns (unless it
    /// already was calling it).
    func finish(_ watchdog: LeaseWatchdog) {
        let ticket = state.withLock { state -> UInt64? in
            state.finished = true
            defer { state.ticket = nil }
            return state.ticket
        }
        if let ticket { watchdog.unwatch(ticket) }
    }
}

/// The connection closed under a running body that postgres-nio will never answer (see
/// ``LeasedConnection``).
struct LeasedConnectionClosed: Error {}
