import Foundation
import SessionKit
import SessionKitSQLite
import SessionKitTesting
import Testing

/// `sessionkit sessions list|revoke|purge` against a real SQLite session database.
@Suite("sessionkit sessions", .serialized)
struct SessionsToolTests {
    static func makeDatabase() async throws -> (path: String, directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sk-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("sessions.sqlite").path
        let now = Int64(Date().timeIntervalSince1970)
        // Written "in the past" so that one of the sessions is already expired for the tool.
        let past = now - 10_000
        let store = SQLiteSessionStore(path: path, clock: { past })
        func record(user: String?, agent: String, expiresAt: Int64) throws -> StoredSession {
            var values: [String: SessionValue] = ["cart": try SessionValue(encoding: ["tea"])]
            if let user { values[StoredSession.userIDKey] = try SessionValue(encoding: user) }
            return StoredSession(values: values, createdAt: past, expiresAt: expiresAt, absoluteExpiresAt: now + 86_400, userAgent: agent)
        }
        try await store.create(SessionID().storageKey, record(user: "alice", agent: "Firefox", expiresAt: now + 3600))
        try await store.create(SessionID().storageKey, record(user: "alice", agent: "Safari", expiresAt: now + 3600))
        try await store.create(SessionID().storageKey, record(user: "bob", agent: "curl", expiresAt: now + 3600))
        try await store.create(SessionID().storageKey, record(user: nil, agent: "anon", expiresAt: now - 5000))
        try await store.close()
        return (path, directory)
    }

    @Test func listRevokePurge() async throws {
        let (path, directory) = try await Self.makeDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = "sqlite:\(path)"

        let counts = try await Tool.run(["sessions", "list", "--store", store])
        #expect(counts.status == 0, "\(counts.stderr)")
        #expect(counts.stdout == "live: 3\nexpired (awaiting cleanup): 1\nsigned-in users: 2\n")

        let alice = try await Tool.run(["sessions", "list", "--store", store, "--user", "alice"])
        #expect(alice.stdout.hasPrefix("2 live sessions of alice\n"))
        #expect(alice.stdout.contains("Firefox") && alice.stdout.contains("Safari"))
        let prefix = try #require(alice.stdout.split(separator: "\n")[1].split(separator: " ").first)
        #expect(prefix.count == 16)

        let one = try await Tool.run(["sessions", "revoke", "--store", store, "--user", "alice", "--session", String(prefix)])
        #expect(one.stdout == "revoked 1 session of alice\n")
        let notHers = try await Tool.run(["sessions", "revoke", "--store", store, "--user", "bob", "--session", String(prefix)])
        #expect(notHers.status != 0)
        #expect(notHers.stderr.contains("no session of bob"))

        let all = try await Tool.run(["sessions", "revoke", "--store", store, "--user", "alice"])
        #expect(all.stdout == "revoked 1 session of alice\n")

        let purge = try await Tool.run(["sessions", "purge", "--store", store])
        #expect(purge.stdout == "removed 1 expired session\n")
        let after = try await Tool.run(["sessions", "list", "--store", store])
        #expect(after.stdout == "live: 1\nexpired (awaiting cleanup): 0\nsigned-in users: 1\n")
    }

    /// `list` only looks: the database file keeps its bytes and its modification time, and a schema
    /// older than this SessionKit's is read as it is, not migrated (here a version 2 table whose
    /// header says version 1: a migration would fail to add the column it already has).
    @Test func listNeverMigratesOrWrites() async throws {
        let (path, directory) = try await Self.makeDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        var bytes = try #require(FileManager.default.contents(atPath: path))
        // `PRAGMA user_version` is the big-endian integer at offset 60 of the header.
        bytes.replaceSubrange(60..<64, with: [0, 0, 0, 1])
        try bytes.write(to: URL(fileURLWithPath: path))
        let modified = try #require(TestFileStatus(path: path)?.modifiedNanoseconds)
        try await Task.sleep(for: .milliseconds(50))

        let counts = try await Tool.run(["sessions", "list", "--store", "sqlite:\(path)"])
        #expect(counts.status == 0, "\(counts.stderr)")
        #expect(counts.stdout == "live: 3\nexpired (awaiting cleanup): 1\nsigned-in users: 2\n")
        let alice = try await Tool.run(["sessions", "list", "--store", "sqlite:\(path)", "--user", "alice"])
        #expect(alice.status == 0, "\(alice.stderr)")
        #expect(alice.stdout.hasPrefix("2 live sessions of alice\n"))

        #expect(FileManager.default.contents(atPath: path) == bytes)
        #expect(TestFileStatus(path: path)?.modifiedNanoseconds == modified)

        // A file that holds no session table is refused, not given one.
        let empty = directory.appendingPathComponent("empty.sqlite").path
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        let refused = try await Tool.run(["sessions", "list", "--store", "sqlite:\(empty)"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("no SessionKit session table"))
        #expect(FileManager.default.contents(atPath: empty) == Data())
    }

    @Test func clearErrors() async throws {
        let missing = try await Tool.run(["sessions", "list", "--store", "sqlite:/nonexistent/x.sqlite"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no session database"))
        let memory = try await Tool.run(["sessions", "list", "--store", "memory"])
        #expect(memory.status != 0)
        #expect(memory.stderr.contains("sqlite:PATH"))
    }
}
