import Foundation
import SessionKit
@testable import SessionKitSQLite
import SessionKitTesting
import Testing

@Suite("SQLiteCheckpointer")
struct SQLiteCheckpointerTests {
    static func walBytes(_ path: String) -> Int {
        TestFileStatus(path: path + "-wal")?.size ?? 0
    }

    /// Writes that each dirty a few pages, with readers reading all along: the log must start over
    /// again and again instead of growing with every write, and nothing written may be lost.
    @Test func keepsTheLogSmallUnderSteadyWritesAndReads() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-checkpoint-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let threshold: Int32 = 40
        let checkpointer = SQLiteCheckpointer(threshold: threshold)
        let (connection, readerConnections) = try await checkpointer.run { () throws -> (SQLiteRawConnection, [SQLiteRawConnection]) in
            let connection = try SQLiteRawConnection(path: path)
            try connection.execute("""
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
                """)
            return (connection, try (0..<2).map { _ in try SQLiteRawConnection(path: path) })
        }
        let writer = SQLiteWriter(connection)
        checkpointer.attach(to: writer)
        let readers = SQLiteReaderPool(readerConnections)
        let writes = 3000
        let payload = [UInt8](repeating: 7, count: 3000)  // a row over most of a page: a few pages a write
        let done = ManagedAtomicFlag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    while !done.isSet {
                        _ = try await readers.read { connection in
                            try connection.withStatement("SELECT count(*) FROM t") { try $0.step() ? $0.int64(0) : nil }
                        }
                        await Task.yield()
                    }
                }
            }
            group.addTask {
                defer { done.set() }
                try await withThrowingTaskGroup(of: Void.self) { writers in
                    for index in 0..<writes {
                        writers.addTask {
                            try await writer.perform { connection in
                                try connection.withStatement("INSERT INTO t (id, data) VALUES (?1, ?2)") { statement in
                                    try statement.bind(1, Int64(index))
                                    try statement.bind(2, blob: payload)
                                    try statement.run()
                                }
                            }
                        }
                    }
                    try await writers.waitForAll()
                }
            }
            try await group.waitForAll()
        }
        #expect(checkpointer.checkpointCount > 0)
        // 3,000 writes of a page or more each: over 12 MB of log without checkpoints. With them
        // it stays near the threshold (plus what queued during a checkpoint).
        let limit = Int(threshold) * 4096 * 20
        #expect(Self.walBytes(path) < limit, "the log grew to \(Self.walBytes(path)) bytes")
        let count = try await readers.read { connection in
            try connection.withStatement("SELECT count(*) FROM t") { try $0.step() ? $0.int64(0) : nil }
        }
        #expect(count == Int64(writes))
        await readers.close()
        await writer.close { checkpointer.detach(from: $0) }
        await checkpointer.close()
    }

    /// A set-once flag shared by tasks.
    final class ManagedAtomicFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }
}
