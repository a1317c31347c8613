import Foundation
import SessionKit
@testable import SessionKitSQLite
import Synchronization
import Testing

@Suite("SQLiteWriter")
struct SQLiteWriterTests {
    /// A writer on a fresh WAL database with a counter table `c` (one row, `n = 0`), a table `t`
    /// and a table `child` whose rows must name a row of `t` by the time they commit.
    static func withWriter(_ body: (SQLiteWriter) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-writer-\(UUID().uuidString).sqlite").path
        let connection = try SQLiteRawConnection(path: path)
        try connection.execute("""
            PRAGMA journal_mode = WAL;
            CREATE TABLE c (n INTEGER NOT NULL);
            INSERT INTO c (n) VALUES (0);
            CREATE TABLE t (id INTEGER PRIMARY KEY);
            PRAGMA foreign_keys = ON;
            CREATE TABLE child (parent INTEGER REFERENCES t (id) DEFERRABLE INITIALLY DEFERRED);
            """)
        let writer = SQLiteWriter(connection)
        do {
            try await body(writer)
        } catch {
            await writer.close()
            throw error
        }
        await writer.close()
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

    /// Runs `writes` (each one's result, or -2 when it threw) while the writer's turn is held,
    /// so that they all queue up for the same batch.
    static func queuedTogether(
        _ writer: SQLiteWriter,
        _ writes: [(atomic: Bool, body: @Sendable (SQLiteRawConnection) throws -> Int)]
    ) async throws -> [Int] {
        let release = try await writer.holdTurn()
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for write in writes {
                group.addTask {
                    do {
                        return try await writer.perform(atomic: write.atomic, write.body)
                    } catch {
                        return -2
                    }
                }
            }
            try await waitUntil { writer.queuedCount == writes.count }
            release()
            var results: [Int] = []
            for try await result in group { results.append(result) }
            return results
        }
    }

    static func run(_ sql: String, on connection: SQLiteRawConnection) throws {
        try connection.withStatement(sql) { try $0.run() }
    }

    static func scalar(_ sql: String, on connection: SQLiteRawConnection) throws -> Int {
        try connection.withStatement(sql) { Int(try $0.step() ? $0.int64(0) ?? -1 : -1) }
    }

    static let increment: (atomic: Bool, body: @Sendable (SQLiteRawConnection) throws -> Int) = (false, { connection in
        try scalar("UPDATE c SET n = n + 1 RETURNING n", on: connection)
    })

    static func counter(_ writer: SQLiteWriter) async throws -> Int {
        try await writer.perform { try scalar("SELECT n FROM c", on: $0) }
    }

    static func rows(_ writer: SQLiteWriter) async throws -> Int {
        try await writer.perform { try scalar("SELECT count(*) FROM t", on: $0) }
    }

    @Test func queuedWritesCommitTogetherEachWithItsOwnResult() async throws {
        try await Self.withWriter { writer in
            let results = try await Self.queuedTogether(writer, Array(repeating: Self.increment, count: 20))
            #expect(results.sorted() == Array(1...20))
            #expect(writer.writesCommittedTogether == 20)
            #expect(try await Self.counter(writer) == 20)
        }
    }

    @Test func aFailingWriteFailsOnlyItsCaller() async throws {
        try await Self.withWriter { writer in
            try await writer.perform { try Self.run("INSERT INTO t (id) VALUES (7)", on: $0) }
            var writes = Array(repeating: Self.increment, count: 12)
            writes[3] = (false, { try Self.scalar("INSERT INTO t (id) VALUES (7) RETURNING id", on: $0) })  // duplicate key
            writes[8] = (false, { try Self.scalar("UPDATE no_such_table SET x = 1", on: $0) })  // cannot prepare
            let results = try await Self.queuedTogether(writer, writes)
            #expect(results.filter { $0 == -2 }.count == 2)
            #expect(results.filter { $0 >= 0 }.sorted() == Array(1...10))
            #expect(writer.writesCommittedTogether == 10)
            #expect(try await Self.counter(writer) == 10)
            #expect(try await Self.rows(writer) == 1)
        }
    }

    @Test func anAtomicWriteIsUndoneWholeInASharedTransaction() async throws {
        try await Self.withWriter { writer in
            try await writer.perform { try Self.run("INSERT INTO t (id) VALUES (1)", on: $0) }
            let failing: (atomic: Bool, body: @Sendable (SQLiteRawConnection) throws -> Int) = (true, { connection in
                try Self.run("INSERT INTO t (id) VALUES (2)", on: connection)
                try Self.run("INSERT INTO t (id) VALUES (1)", on: connection)  // duplicate: undoes the first insert too
                return 0
            })
            let partial: (atomic: Bool, body: @Sendable (SQLiteRawConnection) throws -> Int) = (false, { connection in
                try Self.run("INSERT INTO t (id) VALUES (3)", on: connection)
                try Self.run("INSERT INTO t (id) VALUES (1)", on: connection)  // not atomic: id 3 stays
                return 0
            })
            let results = try await Self.queuedTogether(writer, [Self.increment, failing, Self.increment, partial, Self.increment])
            #expect(results.sorted() == [-2, -2, 1, 2, 3])
            let ids = try await writer.perform { connection in
                try connection.withStatement("SELECT id FROM t ORDER BY id") { statement in
                    var ids: [Int64] = []
                    while try statement.step() { ids.append(statement.int64(0) ?? -1) }
                    return ids
                }
            }
            #expect(ids == [1, 3])
            #expect(try await Self.counter(writer) == 3)
        }
    }

    @Test func whenSQLiteAbandonsTheTransactionTheWritesBeforeFailToo() async throws {
        try await Self.withWriter { writer in
            // A write that ends the transaction itself stands for SQLite rolling it back after a
            // disk or memory error: the two increments before it are undone, and must say so.
            let abandoning: (atomic: Bool, body: @Sendable (SQLiteRawConnection) throws -> Int) = (false, { connection in
                try Self.run("ROLLBACK", on: connection)
                throw SQLiteCallError(code: 13, message: "database or disk is full")
            })
            let results = try await Self.queuedTogether(writer, [Self.increment, Self.increment, abandoning, Self.increment])
            #expect(results.sorted() == [-2, -2, -2, 1])
            #expect(writer.writesCommittedTogether == 1)
            #expect(try await Self.counter(writer) == 1)
        }
    }

    @Test func whenTheCommitFailsEachWriteRunsAgainAlone() async throws {
        try await Self.withWriter { writer in
            // A deferred foreign key fails only at COMMIT; alone, it fails at its own statement.
            let orphan: (atomic: Bool, body: @Sendable (SQLiteRawConnection) throws -> Int) = (false, { connection in
                try Self.run("INSERT INTO child (parent) VALUES (99)", on: connection)
                return 0
            })
            let results = try await Self.queuedTogether(writer, [Self.increment, orphan, Self.increment])
            #expect(results.sorted() == [-2, 1, 2])
            #expect(writer.writesCommittedTogether == 0)
            #expect(try await Self.counter(writer) == 2)
            #expect(try await writer.perform { try Self.scalar("SELECT count(*) FROM child", on: $0) } == 0)
        }
    }

    @Test func anAtomicWriteAloneCommitsAllOrNothing() async throws {
        try await Self.withWriter { writer in
            await #expect(throws: SQLiteCallError.self) {
                try await writer.perform(atomic: true) { connection in
                    try Self.run("INSERT INTO t (id) VALUES (5)", on: connection)
                    try Self.run("INSERT INTO t (id) VALUES (5)", on: connection)
                }
            }
            #expect(try await Self.rows(writer) == 0)
            try await writer.perform(atomic: true) { connection in
                try Self.run("INSERT INTO t (id) VALUES (5)", on: connection)
                try Self.run("INSERT INTO t (id) VALUES (6)", on: connection)
            }
            #expect(try await Self.rows(writer) == 2)
            #expect(try await writer.perform { $0.isInTransaction } == false)
        }
    }

    @Test func aWriteAloneStopsAtItsFirstFailingStatement() async throws {
        try await Self.withWriter { (writer: SQLiteWriter) async throws in
            await #expect(throws: SQLiteCallError.self) {
                try await writer.perform { (connection: SQLiteRawConnection) throws -> Void in
                    try Self.run("INSERT INTO t (id) VALUES (1)", on: connection)
                    try Self.run("INSERT INTO t (id) VALUES (1)", on: connection)
                    try Self.run("UPDATE c SET n = 100", on: connection)
                }
            }
            #expect(try await Self.rows(writer) == 1)
            #expect(try await Self.counter(writer) == 0)
        }
    }

    @Test func closeWaitsForQueuedWritesThenRefusesNewOnes() async throws {
        try await Self.withWriter { writer in
            let release = try await writer.holdTurn()
            let writes = (0..<5).map { _ in Task { try await writer.perform(Self.increment.body) } }
            try await Self.waitUntil { writer.queuedCount == 5 }
            let closed = Task { await writer.close() }
            // close() marks the writer closed at once; new writes are refused from then on.
            try await Self.waitUntil { writer.isClosed }
            await #expect(throws: SessionStoreError.self) { _ = try await Self.counter(writer) }
            #expect(writer.queuedCount == 5)
            release()
            await closed.value
            var results: [Int] = []
            for write in writes { results.append(try await write.value) }
            #expect(results.sorted() == Array(1...5))
        }
    }

    @Test func anIdleWriterRunsAWriteAtOnceAndHandsOnItsTurn() async throws {
        try await Self.withWriter { writer in
            #expect(try await writer.perform(Self.increment.body) == 1)
            #expect(!writer.isBusy)
            // Turns go from caller to caller: many writers, one after the other or together, all finish.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<200 { group.addTask { _ = try await writer.perform(Self.increment.body) } }
                try await group.waitForAll()
            }
            #expect(try await Self.counter(writer) == 201)
            #expect(!writer.isBusy)
            #expect(writer.queuedCount == 0)
        }
    }

    @Test func aTurnTakenFirstGoesAheadOfTheQueuedWritesAndIsNeverShared() async throws {
        try await Self.withWriter { writer in
            let release = try await writer.holdTurn()
            let writes = (0..<3).map { _ in Task { try await writer.perform(Self.increment.body) } }
            try await Self.waitUntil { writer.queuedCount == 3 }
            // Queued last, served first: the writes see what it wrote.
            let taken = writer.takeTurnFirst {
                try? Self.run("UPDATE c SET n = 1000", on: writer.connection)
                writer.handOn()
            }
            #expect(taken)
            #expect(writer.queuedCount == 4)
            release()
            var results: [Int] = []
            for write in writes { results.append(try await write.value) }
            #expect(results.sorted() == [1001, 1002, 1003])
            // On an idle writer it runs at once, and the writer stays busy until it hands on.
            let ran = Mutex(false)
            #expect(writer.takeTurnFirst { ran.withLock { $0 = true } })
            #expect(ran.withLock { $0 })
            #expect(writer.isBusy)
            writer.handOn()
            #expect(!writer.isBusy)
            await writer.close()
            #expect(!writer.takeTurnFirst { Issue.record("ran after close") })
        }
    }
}
