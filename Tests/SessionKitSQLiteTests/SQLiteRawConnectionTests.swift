import Foundation
@testable import SessionKitSQLite
import Synchronization
import Testing

@Suite("SQLiteRawConnection")
struct SQLiteRawConnectionTests {
    static func withConnection(_ body: (SQLiteRawConnection) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-raw-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let connection = try SQLiteRawConnection(path: path)
        defer { connection.close() }
        try connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB)")
        try body(connection)
    }

    @Test func bindsAndReadsEveryKindOfValue() throws {
        try Self.withConnection { connection in
            try connection.withStatement("INSERT INTO t (id, s, b) VALUES (?1, ?2, ?3)") { statement in
                try statement.bind(1, Int64.max)
                try statement.bind(2, "ünï ✓")
                try statement.bind(3, blob: [0, 1, 255])
                try statement.run()
            }
            #expect(connection.changes == 1)
            // Empty text and an empty blob are values, not NULL; a nil string is NULL.
            for (id, text, blob) in [(Int64(2), Optional(""), [UInt8]()), (3, nil, [9])] {
                try connection.withStatement("INSERT INTO t (id, s, b) VALUES (?1, ?2, ?3)") { statement in
                    try statement.bind(1, id)
                    try statement.bind(2, text)
                    try statement.bind(3, blob: blob)
                    try statement.run()
                }
            }
            let rows = try connection.withStatement("SELECT id, s, b, s IS NULL, b IS NULL FROM t ORDER BY id") { statement in
                var rows: [(Int64?, String?, [UInt8]?, Int64?, Int64?)] = []
                while try statement.step() {
                    rows.append((statement.int64(0), statement.text(1), statement.withBlob(2) { Array($0) }, statement.int64(3), statement.int64(4)))
                }
                return rows
            }
            #expect(rows.count == 3)
            #expect(rows[0].0 == 2 && rows[0].1 == "" && rows[0].3 == 0 && rows[0].4 == 0)
            #expect(rows[1].0 == 3 && rows[1].1 == nil && rows[1].2 == [9] && rows[1].3 == 1)
            #expect(rows[2].0 == Int64.max && rows[2].1 == "ünï ✓" && rows[2].2 == [0, 1, 255])
            // A column of another type reads as nil, never as a made-up value.
            try connection.withStatement("SELECT s, id FROM t WHERE id = 3") { statement throws in
                let found = try statement.step()
                #expect(found)
                #expect(statement.int64(0) == nil)
                #expect(statement.isNull(0))
                #expect(statement.withBlob(1) { _ in true } == nil)
            }
        }
    }

    @Test func aStatementIsPreparedOnceAndResetAfterEachUse() throws {
        try Self.withConnection { connection in
            for id in 1...3 {
                try connection.withStatement("INSERT INTO t (id) VALUES (?1)") { statement in
                    try statement.bind(1, Int64(id))
                    try statement.run()
                }
            }
            // Left mid-result, the statement is reset on return: the next use starts over, and no
            // read transaction stays open.
            for _ in 0..<2 {
                let first = try connection.withStatement("SELECT id FROM t ORDER BY id") { statement in
                    try statement.step() ? statement.int64(0) : nil
                }
                #expect(first == 1)
                #expect(!connection.isInTransaction)
            }
            // Parameters are cleared: an unbound parameter is NULL, not the last call's value.
            try connection.withStatement("SELECT ?1 IS NULL") { statement in
                try statement.bind(1, Int64(5))
                _ = try statement.step()
            }
            let unbound = try connection.withStatement("SELECT ?1 IS NULL") { statement in try statement.step() ? statement.int64(0) : nil }
            #expect(unbound == 1)
        }
    }

    @Test func failuresAreErrorsWithSQLitesCodeAndMessage() throws {
        try Self.withConnection { connection in
            #expect { try connection.withStatement("SELEKT 1") { _ in } } throws: { error in
                guard let error = error as? SQLiteCallError else { return false }
                return error.code == 1 && error.message.contains("syntax error")
            }
            try connection.execute("INSERT INTO t (id) VALUES (1)")
            #expect { try connection.execute("INSERT INTO t (id) VALUES (1)") } throws: { error in
                (error as? SQLiteCallError)?.isConstraintViolation == true
            }
            #expect { try connection.withStatement("INSERT INTO t (id) VALUES (1)") { try $0.run() } } throws: { error in
                // SQLITE_CONSTRAINT_PRIMARYKEY, the extended code.
                (error as? SQLiteCallError)?.code == 1555
            }
            connection.close()
            connection.close()
            #expect(throws: SQLiteCallError.self) { try connection.execute("SELECT 1") }
            #expect(throws: SQLiteCallError.self) { try connection.withStatement("SELECT 1") { _ in } }
        }
    }

    @Test func theBusyTimeoutWaitsForALockThenGivesUp() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-busy-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let holder = try SQLiteRawConnection(path: path)
        let waiter = try SQLiteRawConnection(path: path)
        defer { holder.close(); waiter.close() }
        try holder.execute("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER)")
        try holder.execute("BEGIN IMMEDIATE")
        // No timeout: busy at once. A short one: busy once it has passed.
        waiter.setBusyTimeout(milliseconds: 0)
        #expect { try waiter.execute("INSERT INTO t VALUES (1)") } throws: { (($0 as? SQLiteCallError)?.code ?? 0) & 0xFF == 5 }
        waiter.setBusyTimeout(milliseconds: 30)
        #expect { try waiter.execute("INSERT INTO t VALUES (1)") } throws: { (($0 as? SQLiteCallError)?.code ?? 0) & 0xFF == 5 }
        // A long one: the write goes through once the holder commits, meanwhile.
        waiter.setBusyTimeout(milliseconds: 60_000)
        // The holder is used on the other thread until `committed` is set (releasing), and closed
        // here only after reading it (acquiring): the COMMIT happens before the close. Waiting on
        // `Thread.isFinished` instead made no such edge (a plain read of Foundation's status), and
        // ThreadSanitizer reported the close as racing the COMMIT (scripts/test --sanitize thread).
        let committed = CommittedFlag()
        let release = Thread {
            Thread.sleep(forTimeInterval: 0.05)
            try? holder.execute("COMMIT")
            committed.value.store(true, ordering: .releasing)
        }
        release.start()
        try waiter.execute("INSERT INTO t VALUES (1)")
        while !committed.value.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.001) }
    }

    /// Set by the thread that commits once it no longer uses the connection.
    private final class CommittedFlag: Sendable {
        let value = Atomic<Bool>(false)
    }
}
