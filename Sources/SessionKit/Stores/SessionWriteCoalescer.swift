import Synchronization

/// Concurrent writes to one session, in one process, sent as one: while a session's write is on
/// its way to the store, the deltas of the next writes to it wait in one batch (each key's last
/// value, removals in order), and once that write is answered the batch goes as one write that
/// merges them all into the stored session; every write in it gets that write's answer.
///
/// Why: one session under many concurrent requests (a page firing many `fetch`es, the benchmark's
/// one cookie on 32 connections) made every write a statement on the same row or hash, one round
/// trip each; in PostgreSQL each also waited for the row's lock and, having found the row changed
/// since its load, ran the PL/pgSQL merge. A batch costs one round trip and one merge for all its
/// writes. Nothing is lost or reordered that was ordered before: writes that wait together were
/// concurrent (no order among them but the order they arrived in, which the batch keeps), a write
/// never waits for one that came after it, and the batch changes only a live session, as each of
/// its writes would. Sessions with one write at a time (the usual case) go straight through: a
/// lock and a dictionary lookup. The PostgreSQL and Redis stores use it for `.update` deltas.
///
/// ```swift
/// let coalescer = SessionWriteCoalescer()
/// let stillThere = try await coalescer.write(key, set: set, remove: remove, expiresAt: deadline) {
///     try await sendThisWriteAlone()
/// } batch: { set, remove, expiresAt in
///     try await sendMerged(set, remove, expiresAt)
/// }
/// ```
package final class SessionWriteCoalescer: Sendable {
    /// Writes that wait together, and who sends them.
    package final class Batch: Sendable {
        package struct State {
            package var set: [String: SessionValue] = [:]
            package var remove: Set<String> = []
            package var expiresAt: Int64 = 0
            package var count = 0
            /// The batch's answer, once known, and the writes waiting for it.
            var result: Result<Bool, any Error>?
            var waiters: [CheckedContinuation<Result<Bool, any Error>, Never>] = []
            /// The first write of the batch, which sends it, waits here for its turn.
            var turn: CheckedContinuation<Void, Never>?
            var hasTurn = false
        }
        package let state = Mutex(State())

        package init() {}

        /// Adds a write's delta after those already in the batch.
        package func add(set: [String: SessionValue], remove: Set<String>, expiresAt: Int64) {
            state.withLock { state in
                for key in remove {
                    state.set.removeValue(forKey: key)
                    state.remove.insert(key)
                }
                for (key, value) in set {
                    state.set[key] = value
                    state.remove.remove(key)
                }
                state.expiresAt = expiresAt
                state.count += 1
            }
        }

        /// Lets the batch's sender go (once the write before it is answered).
        func giveTurn() {
            let turn = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.hasTurn = true
                defer { state.turn = nil }
                return state.turn
            }
            turn?.resume()
        }

        func waitForTurn() async {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.hasTurn { return true }
                    state.turn = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        }

        /// The batch's answer, once its statement is answered (at once when it already was).
        func waitForAnswer() async -> Result<Bool, any Error> {
            await withCheckedContinuation { continuation in
                let known = state.withLock { state -> Result<Bool, any Error>? in
                    if let result = state.result { return result }
                    state.waiters.append(continuation)
                    return nil
                }
                if let known { continuation.resume(returning: known) }
            }
        }

        /// Gives every write of the batch its answer, those waiting now and those to come.
        func deliver(_ result: Result<Bool, any Error>) {
            let waiters = state.withLock { state in
                state.result = result
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: result) }
        }
    }

    private struct Session {
        /// The batch forming behind the write on its way, if any.
        var batch: Batch?
    }

    /// The sessions with a write on its way.
    private let sessions = Mutex<[SessionStorageKey: Session]>([:])
    private let batches = Atomic<Int>(0)
    private let batchedWrites = Atomic<Int>(0)

    package init() {}

    /// How many batches were sent, and how many writes they carried (for tests and benchmarks).
    package var counts: (batches: Int, writes: Int) { (batches.load(ordering: .relaxed), batchedWrites.load(ordering: .relaxed)) }

    /// Writes `set`/`remove` to `key`: alone (`alone`, the caller's own statement) when no write
    /// to the session is on its way, else in the batch behind it (`batch` sends the merged delta).
    /// Returns whether the session was still there.
    package func write(
        _ key: SessionStorageKey, set: [String: SessionValue], remove: Set<String>, expiresAt: Int64,
        alone: @Sendable () async throws -> Bool,
        batch send: @Sendable ([String: SessionValue], Set<String>, Int64) async throws -> Bool
    ) async throws -> Bool {
        enum Role { case alone, sender(Batch), member(Batch) }
        let role = sessions.withLock { sessions -> Role in
            guard var session = sessions[key] else {
                sessions[key] = Session()
                return .alone
            }
            if let batch = session.batch {
                batch.add(set: set, remove: remove, expiresAt: expiresAt)
                return .member(batch)
            }
            let batch = Batch()
            batch.add(set: set, remove: remove, expiresAt: expiresAt)
            session.batch = batch
            sessions[key] = session
            return .sender(batch)
        }
        switch role {
        case .alone:
            defer { finished(key) }
            return try await alone()
        case .member(let batch):
            return try await batch.waitForAnswer().get()
        case .sender(let batch):
            await batch.waitForTurn()
            // Closed: `finished` took it off the session before giving the turn.
            let (set, remove, expiresAt, count) = batch.state.withLock { ($0.set, $0.remove, $0.expiresAt, $0.count) }
            let result: Result<Bool, any Error>
            do {
                result = .success(try await send(set, remove, expiresAt))
            } catch {
                result = .failure(error)
            }
            finished(key)
            batches.add(1, ordering: .relaxed)
            batchedWrites.add(count, ordering: .relaxed)
            batch.deliver(result)
            return try result.get()
        }
    }

    /// The write on its way to `key` is answered: the batch behind it (if any) goes next, else the
    /// session has no write on its way.
    private func finished(_ key: SessionStorageKey) {
        let next = sessions.withLock { sessions -> Batch? in
            guard let batch = sessions[key]?.batch else {
                sessions.removeValue(forKey: key)
                return nil
            }
            sessions[key] = Session()   // the batch is on its way; a new one forms behind it
            return batch
        }
        next?.giveTurn()
    }
}
