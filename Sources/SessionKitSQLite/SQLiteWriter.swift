import SessionKit
import Synchronization
import VaporCSQLite

/// The writer connection, with group commit: writes that arrive while a batch is running wait in
/// a queue, and the next turn runs all of them (up to ``maximumBatch``) in one
/// `BEGIN IMMEDIATE … COMMIT` transaction.
///
/// There is no thread of its own: the caller that finds the writer idle runs the batch on its own
/// thread, then hands the next turn to the first caller that queued meanwhile (as a connection
/// pool hands over its connection). A write of a session is a few microseconds of SQLite work and
/// a `write` of the log into the kernel's cache (commits do not `fsync` in WAL mode with
/// `synchronous = NORMAL`; the checkpoints that do run on ``SQLiteCheckpointer``'s thread); waking
/// a writer thread and being woken by it cost more than that on a small machine, measured.
///
/// Each write is a closure that runs its statements on the connection and returns its result; the
/// caller gets that result once the write has committed. A write that finds the writer idle runs
/// alone, without a transaction around it (one statement commits on its own).
///
/// Failures reach only the writes they belong to:
/// - a write that throws inside a shared transaction is undone by SQLite statement by statement
///   (an `atomic` write runs under a savepoint and is undone whole); the others go on;
/// - when SQLite abandons the whole transaction (after a disk or memory error), the writes that
///   ran before in it report that error, and the rest run in a new transaction;
/// - when `COMMIT` fails, the transaction is rolled back and each of its writes runs again alone.
///
/// ```swift
/// let writer = SQLiteWriter(try SQLiteRawConnection(path: path))
/// let changed = try await writer.perform { connection in
///     try connection.withStatement("UPDATE t SET n = n + 1") { try $0.run() }
///     return connection.changes
/// }
/// await writer.close()
/// ```
final class SQLiteWriter: Sendable {
    /// What a queued caller is woken for.
    enum Turn: Sendable {
        /// The write ran; its outcome is in its job.
        case done
        /// The writer is free: run the next batch, starting with this caller's write.
        case lead
        /// The writer was closed before the write was queued.
        case closed
    }

    /// A queued write. Only the caller running the batch touches `failure` (and the continuation)
    /// until the submitter is resumed, which orders the accesses.
    final class Job: @unchecked Sendable {
        let atomic: Bool
        /// A turn held by ``holdTurn()`` or ``takeTurnFirst(_:)``: never run in another caller's batch.
        var exclusive = false
        /// Called instead of resuming a continuation when the turn comes (``takeTurnFirst(_:)``).
        var onTurn: (@Sendable () -> Void)?
        let body: (SQLiteRawConnection) throws -> Void
        var continuation: CheckedContinuation<Turn, Never>?
        var failure: (any Error)?

        init(atomic: Bool, body: @escaping (SQLiteRawConnection) throws -> Void) {
            self.atomic = atomic
            self.body = body
        }
    }

    /// Where a write's closure leaves its result for the caller.
    private final class Outcome<Value>: @unchecked Sendable {
        var value: Value?
    }

    private struct State {
        var pending: [Job] = []
        /// A caller is running a batch (or about to).
        var busy = false
        var closed = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// The most writes one transaction takes, so one turn stays short.
    static let maximumBatch = 128

    /// The connection; only the caller running a batch uses it, until ``close()``.
    let connection: SQLiteRawConnection
    private let state = Mutex(State())
    private let committedTogether = Atomic<Int>(0)

    init(_ connection: SQLiteRawConnection) {
        self.connection = connection
    }

    /// How many writes wait for a turn (for tests).
    var queuedCount: Int { state.withLock { $0.pending.count } }

    /// Whether a caller is running a batch or about to (for tests).
    var isBusy: Bool { state.withLock { $0.busy } }

    /// Whether ``close()`` has been called (for tests).
    var isClosed: Bool { state.withLock { $0.closed } }

    /// How many writes have succeeded in a transaction shared with others (for tests).
    var writesCommittedTogether: Int { committedTogether.load(ordering: .relaxed) }

    /// Runs `body` on the writer connection, alone or in a transaction with other queued writes,
    /// and returns its result once it has committed. An `atomic` write's statements commit all or
    /// none; otherwise each statement commits or fails on its own, as without a transaction.
    func perform<Value: Sendable>(atomic: Bool = false, _ body: @escaping @Sendable (SQLiteRawConnection) throws -> Value) async throws -> Value {
        let outcome = Outcome<Value>()
        let job = Job(atomic: atomic, body: { outcome.value = try body($0) })
        switch await turn(for: job) {
        case .closed:
            throw SessionStoreError(.unavailable, "the SQLite session store is closed")
        case .lead:
            lead(job)
        case .done:
            break
        }
        if let failure = job.failure { throw failure }
        guard let value = outcome.value else { preconditionFailure("a write finished without its result") }
        return value
    }

    /// Takes the writer's turn without running a write, so that writes queue up behind it (for
    /// tests); the returned function hands the turn on.
    func holdTurn() async throws -> @Sendable () -> Void {
        let job = Job(atomic: false, body: { _ in })
        job.exclusive = true
        guard case .lead = await turn(for: job) else {
            throw SessionStoreError(.unavailable, "the SQLite session store is closed")
        }
        return { self.handOn() }
    }

    /// Takes the next turn, ahead of the writes waiting, without suspending: `onTurn` is called
    /// when the turn comes (at once when the writer is idle, else from the thread that hands the
    /// turn on) and must call ``handOn()`` when done with the connection. For work that must run
    /// between two batches, such as a checkpoint requested from inside a commit. `false` once closed.
    @discardableResult
    func takeTurnFirst(_ onTurn: @escaping @Sendable () -> Void) -> Bool {
        let job = Job(atomic: false, body: { _ in })
        job.exclusive = true
        job.onTurn = onTurn
        let now = state.withLock { state -> Bool? in
            if state.closed { return nil }
            if state.busy {
                state.pending.insert(job, at: 0)
                return false
            }
            state.busy = true
            return true
        }
        guard let now else { return false }
        if now { onTurn() }
        return true
    }

    /// Queues `job` and waits for its turn: to lead a batch, or its outcome from another's batch.
    private func turn(for job: Job) async -> Turn {
        // The common case when the writer is idle: lead at once, without suspending.
        let immediate = state.withLock { state -> Turn? in
            if state.closed { return .closed }
            guard !state.busy else { return nil }
            state.busy = true
            return .lead
        }
        if let immediate { return immediate }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            job.continuation = continuation
            let turn = state.withLock { state -> Turn? in
                if state.closed { return .closed }
                if state.busy {
                    state.pending.append(job)
                    return nil
                }
                state.busy = true
                return .lead
            }
            if let turn { continuation.resume(returning: turn) }
        }
    }

    /// Waits until no write is queued or running, refuses new ones, runs `beforeClosing` with the
    /// connection and closes it.
    func close(beforeClosing: (SQLiteRawConnection) -> Void = { _ in }) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                state.closed = true
                if state.busy {
                    state.idleWaiters.append(continuation)
                    return false
                }
                return true
            }
            if idle { continuation.resume() }
        }
        beforeClosing(connection)
        connection.close()
    }

    // MARK: Running a batch

    /// Runs one batch (`own`, then the writes queued meanwhile), wakes its other writers, and
    /// hands the next turn to whoever queued meanwhile.
    private func lead(_ own: Job) {
        let batch = state.withLock { state -> [Job] in
            // Up to the first held turn, which must get the connection to itself.
            let count = min(state.pending.prefix { !$0.exclusive }.count, Self.maximumBatch - 1)
            let batch = [own] + state.pending.prefix(count)
            state.pending.removeFirst(count)
            return batch
        }
        run(batch)
        for job in batch where job !== own {
            job.continuation?.resume(returning: .done)
        }
        handOn()
    }

    /// Hands the turn to the first queued write, or marks the writer idle.
    func handOn() {
        let (next, idleWaiters) = state.withLock { state -> (Job?, [CheckedContinuation<Void, Never>]) in
            if !state.pending.isEmpty { return (state.pending.removeFirst(), []) }
            state.busy = false
            defer { state.idleWaiters = [] }
            return (nil, state.idleWaiters)
        }
        if let onTurn = next?.onTurn {
            onTurn()
        } else {
            next?.continuation?.resume(returning: .lead)
        }
        for waiter in idleWaiters { waiter.resume() }
    }

    private func run(_ batch: [Job]) {
        if batch.count == 1 {
            runAlone(batch[0])
            return
        }
        // The writes that ran in the open transaction, for the commit to count or undo.
        var ran: [Job] = []
        if let error = execute("BEGIN IMMEDIATE") {
            for job in batch { job.failure = error }
            return
        }
        for (index, job) in batch.enumerated() {
            runInTransaction(job)
            guard job.failure != nil, !connection.isInTransaction else {
                ran.append(job)
                continue
            }
            // SQLite abandoned the transaction: the writes before this one are undone as well.
            for earlier in ran where earlier.failure == nil { earlier.failure = job.failure }
            ran = []
            if let error = execute("BEGIN IMMEDIATE") {
                for later in batch[(index + 1)...] { later.failure = error }
                return
            }
        }
        if execute("COMMIT") == nil {
            committedTogether.add(ran.count { $0.failure == nil }, ordering: .relaxed)
            return
        }
        _ = execute("ROLLBACK")
        for job in ran where job.failure == nil { runAlone(job) }
    }

    /// Runs a write inside the open transaction; an atomic one under a savepoint.
    private func runInTransaction(_ job: Job) {
        guard job.atomic else {
            job.failure = attempt(job.body)
            return
        }
        if let error = execute("SAVEPOINT sessionkit_write") {
            job.failure = error
            return
        }
        job.failure = attempt(job.body)
        if job.failure != nil, connection.isInTransaction {
            _ = execute("ROLLBACK TO sessionkit_write")
        }
        if connection.isInTransaction { _ = execute("RELEASE sessionkit_write") }
    }

    /// Runs a write on its own; an atomic one in a transaction of its own.
    private func runAlone(_ job: Job) {
        job.failure = nil
        guard job.atomic else {
            job.failure = attempt(job.body)
            return
        }
        if let error = execute("BEGIN IMMEDIATE") {
            job.failure = error
            return
        }
        job.failure = attempt(job.body)
        if job.failure == nil, let error = execute("COMMIT") { job.failure = error }
        if connection.isInTransaction { _ = execute("ROLLBACK") }
    }

    private func attempt(_ body: (SQLiteRawConnection) throws -> Void) -> (any Error)? {
        do {
            try body(connection)
            return nil
        } catch {
            return error
        }
    }

    /// Runs a statement without parameters (prepared once), returning its error.
    private func execute(_ sql: String) -> (any Error)? {
        attempt { connection in try connection.withStatement(sql) { try $0.run() } }
    }
}
