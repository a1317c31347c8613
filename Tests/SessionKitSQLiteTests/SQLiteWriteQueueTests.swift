import Foundation
import NIOPosix
import SQLiteNIO
import SessionKit
@testable import SessionKitSQLite
import Testing

@Suite("SQLiteWriteQueue")
struct SQLiteWriteQueueTests {
    /// A queue on a fresh WAL database (on a one-thread pool, as the store's writer) with a
    /// counter table `c` (one row, `n = 0`) and a table `t`.
    static func withQueue(_ body: (SQLiteWriteQueue) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-queue-\(UUID().uuidString).sqlite").path
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        let connection = try await SQLiteConnection.open(storage: .file(path: path), threadPool: thread, on: MultiThreadedEventLoopGroup.singleton.any())
        let queue = SQLiteWriteQueue(SQLiteConnectionPool([connection]))
        do {
            _ = try await connection.query("PRAGMA journal_mode = WAL")
            _ = try await connection.query("CREATE TABLE c (n INTEGER NOT NULL)")
            _ = try await connection.query("INSERT INTO c (n) VALUES (0)")
            _ = try await connection.query("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            try await body(queue)
        } catch {
            await queue.close()
            try? await connection.close()
            try? await thread.shutdownGracefully()
            throw error
        }
        await queue.close()
        try await connection.close()
        try await thread.shutdownGracefully()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Waits (at most a generous minute, to fail instead of hanging) until `condition` holds.
    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Runs `writes` (each one's result, or -2 when it threw) while the writer is busy with
    /// another write, so that they all queue up for the same turn.
    static func queuedTogether(_ queue: SQLiteWriteQueue, _ writes: [[SQLiteWriteQueue.Statement]]) async throws -> [Int] {
        let (gate, open) = AsyncStream<Void>.makeStream()
        return try await withThrowingTaskGroup(of: Int?.self) { group in
            // Hold the writer connection, so that the first write waits for it with its batch taken.
            group.addTask {
                try await queue.pool.withConnection { _ in for await _ in gate { break } }
                return nil
            }
            group.addTask {
                _ = try await queue.submit([.init("UPDATE c SET n = n")])
                return nil
            }
            try await waitUntil { queue.isBusy && queue.queuedCount == 0 }
            for statements in writes {
                group.addTask {
                    do {
                        return try await queue.submit(statements).first?.column("r")?.integer ?? -1
                    } catch {
                        return -2
                    }
                }
            }
            try await waitUntil { queue.queuedCount == writes.count }
            open.yield()
            open.finish()
            var results: [Int] = []
            for try await result in group { if let result { results.append(result) } }
            return results
        }
    }

    static let increment = SQLiteWriteQueue.Statement("UPDATE c SET n = n + 1 RETURNING n AS r")

    static func counter(_ queue: SQLiteWriteQueue) async throws -> Int? {
        try await queue.submit([.init("SELECT n FROM c")]).first?.column("n")?.integer
    }

    @Test func queuedWritesCommitTogetherEachWithItsOwnResult() async throws {
        try await Self.withQueue { queue in
            let results = try await Self.queuedTogether(queue, Array(repeating: [Self.increment], count: 20))
            #expect(results.sorted() == Array(1...20))
            #expect(queue.writesCommittedTogether == 20)
            #expect(try await Self.counter(queue) == 20)
        }
    }

    @Test func aFailingWriteFailsOnlyItsCaller() async throws {
        try await Self.withQueue { queue in
            _ = try await queue.submit([.init("INSERT INTO t (id) VALUES (7)")])
            var writes = Array(repeating: [Self.increment], count: 12)
            writes[3] = [.init("INSERT INTO t (id) VALUES (7) RETURNING id AS r")]  // duplicate key
            writes[8] = [.init("UPDATE no_such_table SET x = 1")]  // cannot prepare
            let results = try await Self.queuedTogether(queue, writes)
            #expect(results.filter { $0 == -2 }.count == 2)
            #expect(results.filter { $0 >= 0 }.sorted() == Array(1...10))
            #expect(queue.writesCommittedTogether == 10)
            #expect(try await Self.counter(queue) == 10)
            #expect(try await queue.submit([.init("SELECT count(*) AS k FROM t")]).first?.column("k")?.integer == 1)
        }
    }

    @Test func aWriteOfSeveralStatementsReturnsTheLastOnesRows() async throws {
        try await Self.withQueue { queue in
            let write: [SQLiteWriteQueue.Statement] = [.init("INSERT INTO t (id) VALUES (1)"), .init("INSERT INTO t (id) VALUES (2)"), Self.increment]
            let results = try await Self.queuedTogether(queue, [write, [Self.increment]])
            #expect(results.sorted() == [1, 2])
            // Alone, a write stops at its first failing statement.
            await #expect(throws: SQLiteError.self) { _ = try await queue.submit([.init("INSERT INTO t (id) VALUES (1)"), Self.increment]) }
            #expect(try await Self.counter(queue) == 2)
        }
    }

    @Test func closeWaitsForQueuedWritesThenRefusesNewOnes() async throws {
        try await Self.withQueue { queue in
            async let results = Self.queuedTogether(queue, Array(repeating: [Self.increment], count: 5))
            try await Self.waitUntil { queue.queuedCount == 5 }
            await queue.close()
            #expect(try await results.sorted() == Array(1...5))
            await #expect(throws: SessionStoreError.self) { _ = try await Self.counter(queue) }
        }
    }
}
