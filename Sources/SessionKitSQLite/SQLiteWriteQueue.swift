import NIOCore
import SQLiteNIO
import SessionKit
import Synchronization

/// Group commit for the writer connection: writes that arrive while the writer is busy wait in a
/// queue, and the next turn sends all of them to the writer in one `BEGIN IMMEDIATE … COMMIT`
/// transaction.
///
/// The writer connection runs on a thread pool of its own with one thread, which executes
/// statements in the order they were sent. So a turn sends `BEGIN`, every queued write's
/// statements and `COMMIT` back to back and waits once, instead of a round trip between the
/// caller and the writer thread for each statement; and one transaction replaces one per write.
///
/// Each write keeps its own statements and gets its own result, and has committed when its call
/// returns. A statement that fails inside the transaction is undone by SQLite on its own (the
/// transaction goes on), so a failure reaches only the write that caused it. When the commit
/// fails, the batch is rolled back, and runs again write by write when no statement had failed;
/// otherwise every write of the batch reports the failure (SQLite may have abandoned the
/// transaction at the failed statement, after which the rest ran on their own: their outcome is
/// unknown, as after a failed commit). A write that finds the writer idle runs alone, without a
/// transaction around it.
///
/// There is no task of its own: the caller that finds the writer idle runs the turn, and hands
/// the next turn to the first caller that queued meanwhile (as a connection pool hands over its
/// connection).
///
/// ```swift
/// let writes = SQLiteWriteQueue(SQLiteConnectionPool([writer]))
/// let rows = try await writes.submit([.init("UPDATE t SET n = n + 1 WHERE id = ?1 RETURNING n", [.integer(1)])])
/// ```
final class SQLiteWriteQueue: Sendable {
    /// One statement of a write.
    struct Statement: Sendable {
        var sql: String
        var binds: [SQLiteData]

        init(_ sql: String, _ binds: [SQLiteData] = []) {
            self.sql = sql
            self.binds = binds
        }
    }

    /// What a queued caller is woken for.
    enum Turn: Sendable {
        /// The write ran; its outcome is in its job.
        case done
        /// The writer is free: run the next batch, starting with this caller's write.
        case lead
        /// The queue was closed before the write was queued.
        case closed
    }

    /// A queued write. Only the caller running the batch touches `outcome` (and the continuation)
    /// until the submitter is resumed, which orders the accesses.
    final class Job: @unchecked Sendable {
        let statements: [Statement]
        var continuation: CheckedContinuation<Turn, Never>?
        /// The rows of the last statement, or the first error.
        var outcome: Result<[SQLiteRow], any Error>?

        init(_ statements: [Statement]) {
            self.statements = statements
        }
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

    /// The writer connection; batches use it exclusively, and so may other users of the pool.
    let pool: SQLiteConnectionPool
    private let state = Mutex(State())
    private let committedTogether = Atomic<Int>(0)

    init(_ pool: SQLiteConnectionPool) {
        self.pool = pool
    }

    /// How many writes wait for a turn (for tests).
    var queuedCount: Int { state.withLock { $0.pending.count } }

    /// Whether a caller is running a batch or about to (for tests).
    var isBusy: Bool { state.withLock { $0.busy } }

    /// How many writes have succeeded in a transaction shared with others (for tests).
    var writesCommittedTogether: Int { committedTogether.load(ordering: .relaxed) }

    /// Runs `statements` in order on the writer connection, alone or in a transaction with other
    /// queued writes, and returns the rows of the last one once they have committed. When one
    /// throws, the ones after it do not run (except inside a shared transaction, which it does not
    /// abort: there they run, and commit, as in the same statements without a transaction).
    func submit(_ statements: [Statement]) async throws -> [SQLiteRow] {
        let job = Job(statements)
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            job.continuation = continuation
            let turn = state.withLock { state -> Turn? in
                if state.closed { return .closed }
                state.pending.append(job)
                if state.busy { return nil }
                state.busy = true
                return .lead
            }
            if let turn { continuation.resume(returning: turn) }
        }
        switch turn {
        case .closed:
            throw SessionStoreError(.unavailable, "the SQLite session store is closed")
        case .lead:
            await lead(job)
        case .done:
            break
        }
        guard let outcome = job.outcome else { preconditionFailure("a write was woken before it ran") }
        return try outcome.get()
    }

    /// Waits until no write is queued or running, and refuses new ones.
    func close() async {
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
    }

    /// Runs one batch (starting with `own`, queued first), wakes its other writers, and hands the
    /// next turn to whoever queued meanwhile.
    private func lead(_ own: Job) async {
        let batch = state.withLock { state -> [Job] in
            let count = min(state.pending.count, Self.maximumBatch)
            let batch = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            return batch
        }
        assert(batch.first === own)
        do {
            try await pool.withConnection { connection in await run(batch, on: connection) }
        } catch {
            // withConnection throws only what its body throws, and this body does not throw.
            for job in batch where job.outcome == nil { job.outcome = .failure(error) }
        }
        for job in batch where job !== own {
            job.continuation?.resume(returning: .done)
        }
        let (next, idleWaiters) = state.withLock { state -> (Job?, [CheckedContinuation<Void, Never>]) in
            if let next = state.pending.first { return (next, []) }
            state.busy = false
            defer { state.idleWaiters = [] }
            return (nil, state.idleWaiters)
        }
        next?.continuation?.resume(returning: .lead)
        for waiter in idleWaiters { waiter.resume() }
    }

    private func run(_ batch: [Job], on connection: SQLiteConnection) async {
        guard batch.count > 1 else {
            await Self.runAlone(batch[0], on: connection)
            return
        }
        // Everything at once: the writer thread runs it in this order.
        let begin = Self.send(Statement("BEGIN IMMEDIATE"), on: connection)
        let statements = batch.map { job in job.statements.map { Self.send($0, on: connection) } }
        let commit = Self.send(Statement("COMMIT"), on: connection)
        let results = try? await EventLoopFuture.whenAllComplete([begin] + statements.joined() + [commit], on: connection.eventLoop).get()
        guard let results else { preconditionFailure("whenAllComplete does not fail") }
        var outcomes = results.dropFirst().dropLast().makeIterator()
        var anyFailed = false
        for job in batch {
            var outcome: Result<[SQLiteRow], any Error> = .success([])
            for _ in job.statements {
                guard let result = outcomes.next() else { preconditionFailure("one result per statement") }
                if case .success = outcome { outcome = result }
            }
            if case .failure = outcome { anyFailed = true }
            job.outcome = outcome
        }
        switch (results[0], results[results.count - 1]) {
        case (.failure, _):
            // No transaction: every statement ran, and committed or failed, on its own.
            return
        case (.success, .success):
            committedTogether.add(batch.count { if case .success = $0.outcome { true } else { false } }, ordering: .relaxed)
            return
        case (.success, .failure(let error)):
            _ = try? await Self.send(Statement("ROLLBACK"), on: connection).get()
            if anyFailed {
                for job in batch { job.outcome = .failure(error) }
            } else {
                for job in batch { await Self.runAlone(job, on: connection) }
            }
        }
    }

    /// Runs a job's statements one after the other, stopping at the first that fails.
    private static func runAlone(_ job: Job, on connection: SQLiteConnection) async {
        var rows: [SQLiteRow] = []
        for statement in job.statements {
            do {
                rows = try await connection.query(statement.sql, statement.binds)
            } catch {
                job.outcome = .failure(error)
                return
            }
        }
        job.outcome = .success(rows)
    }

    /// Hands a statement to the writer thread (which runs them in the order sent).
    private static func send(_ statement: Statement, on connection: SQLiteConnection) -> EventLoopFuture<[SQLiteRow]> {
        connection.query(statement.sql, statement.binds)
    }
}
