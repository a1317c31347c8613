import NIOPosix
import Synchronization
import VaporCSQLite

/// Copies the write-ahead log into the database file on a thread of its own, so that no request's
/// thread waits for the `fsync` a checkpoint needs.
///
/// SQLite's automatic checkpoint runs inside the commit that finds the log over 1,000 pages, on
/// the committing thread, and ``SQLiteWriter`` commits on its callers' threads. So the store
/// replaces it: the writer connection's WAL hook reports the log's size after every commit, and
/// past ``threshold`` pages the checkpointer takes the writer's next turn, ahead of the writes
/// waiting (which stay queued, suspended, and commit together afterwards), runs a `RESTART`
/// checkpoint on the writer connection on its own thread, and hands the turn on. No write lands
/// during the checkpoint, so it copies the whole log, and once no reader is inside the log any
/// more the next write starts it over from its beginning. A checkpoint that ran beside the writes
/// instead never caught up under a steady load: the log grew to 160 MB in 4 s of the HTTP
/// benchmark, measured.
/// One checkpoint runs at a time; requests meanwhile are merged into it.
///
/// ```swift
/// let checkpointer = SQLiteCheckpointer()
/// checkpointer.attach(to: writer)           // before the first write
/// …
/// await writer.close { checkpointer.detach(from: $0) }
/// await checkpointer.close()
/// ```
final class SQLiteCheckpointer: Sendable {
    /// The log size, in pages, past which a checkpoint starts (SQLite's automatic default).
    static let defaultThreshold: Int32 = 1000

    let threshold: Int32
    private let thread: NIOThreadPool
    private let writer = Mutex<SQLiteWriter?>(nil)
    private let scheduled = Atomic<Bool>(false)
    private let completed = Atomic<Int>(0)

    /// Starts the thread.
    init(threshold: Int32 = defaultThreshold) {
        self.threshold = threshold
        self.thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    /// How many checkpoints have run (for tests).
    var checkpointCount: Int { completed.load(ordering: .relaxed) }

    /// Runs `body` on the checkpointer's thread (for work that may block, such as opening files).
    func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await thread.runIfActive(body)
    }

    /// Replaces the automatic checkpoints of `writer`'s connection with this checkpointer. The
    /// connection keeps an unretained reference to it: detach before the checkpointer goes away.
    func attach(to writer: SQLiteWriter) {
        guard let handle = writer.connection.handle else { return }
        self.writer.withLock { $0 = writer }
        sqlite_nio_sqlite3_wal_hook(handle, { context, _, _, pages in
            guard let context else { return SQLITE_OK }
            Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue().logGrew(to: pages)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Removes the hook from the writer's connection (call with the writer's turn, or after it closed).
    func detach(from connection: SQLiteRawConnection) {
        writer.withLock { $0 = nil }
        guard let handle = connection.handle else { return }
        sqlite_nio_sqlite3_wal_hook(handle, nil, nil)
    }

    /// Called after each commit, on the committing thread (which holds the writer's turn), with the
    /// log's size in pages: past the threshold, the next turn goes to a checkpoint.
    func logGrew(to pages: Int32) {
        guard pages >= threshold, let writer = writer.withLock({ $0 }),
              !scheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let started = writer.takeTurnFirst { [self] in
            thread.submit { [self] _ in
                checkpoint(writer.connection)
                scheduled.store(false, ordering: .releasing)
                writer.handOn()
            }
        }
        if !started { scheduled.store(false, ordering: .releasing) }
    }

    /// Runs a `RESTART` checkpoint on `connection` (on the checkpointer's thread, with the writer's
    /// turn): it copies the whole log, then waits until no reader is still inside it, so that the
    /// next write starts the log over. Without that wait a read that was in progress (a task
    /// preempted halfway, on a busy machine) kept the log growing until a later checkpoint
    /// happened to find no reader. The wait is bounded by ``readerWait`` (reads take microseconds);
    /// past it the checkpoint gives up and the next one tries again.
    private func checkpoint(_ connection: SQLiteRawConnection) {
        guard let handle = connection.handle else { return }
        var logPages: Int32 = 0
        var copied: Int32 = 0
        let busyTimeout = connection.busyTimeoutMilliseconds
        connection.setBusyTimeout(milliseconds: Self.readerWait)
        // A failure (SQLITE_BUSY: a reader stayed, or another process writes) leaves the rest for the next one.
        _ = sqlite_nio_sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_RESTART, &logPages, &copied)
        connection.setBusyTimeout(milliseconds: busyTimeout)
        completed.add(1, ordering: .relaxed)
    }

    /// How long, in milliseconds, a checkpoint waits for readers to leave the log.
    static let readerWait = 20

    /// Waits for a checkpoint in progress and stops the thread.
    func close() async {
        try? await thread.shutdownGracefully()
    }
}
