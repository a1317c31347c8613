import Foundation
import Logging
import SQLiteNIO
import ServiceLifecycle
import SessionKit
import SessionKitSQLite
import SessionKitTesting
import Synchronization
import Testing

@Suite("SQLiteSessionStore")
struct SQLiteSessionStoreTests {
    /// Stores made during a test, closed at its end.
    final class Stores: Sendable {
        let directory: String
        private let stores = Mutex<[SQLiteSessionStore]>([])

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-sqlite-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        func make(
            file: String = UUID().uuidString, clock: @escaping @Sendable () -> Int64 = SessionClock.system,
            configure: (inout SQLiteSessionStoreConfiguration) -> Void = { _ in }
        ) -> SQLiteSessionStore {
            var configuration = SQLiteSessionStoreConfiguration(path: "\(directory)/\(file).sqlite")
            configure(&configuration)
            let store = SQLiteSessionStore(configuration: configuration, clock: clock)
            stores.withLock { $0.append(store) }
            return store
        }

        func finish() async throws {
            for store in stores.withLock({ $0 }) { try await store.close() }
            try FileManager.default.removeItem(atPath: directory)
        }
    }

    static func withStores(_ body: (Stores) async throws -> Void) async throws {
        let stores = try Stores()
        do {
            try await body(stores)
        } catch {
            try? await stores.finish()
            throw error
        }
        try await stores.finish()
    }

    static func session(_ now: Int64, idle: Int64 = 1800, user: String? = nil) -> StoredSession {
        var values: [String: SessionValue] = ["n": SessionValue(json: Array("1".utf8))]
        if let user { values[StoredSession.userIDKey] = SessionValue(flask: .string(user)) }
        return StoredSession(values: values, createdAt: now, expiresAt: now + idle, absoluteExpiresAt: now + 86_400)
    }

    @Test(arguments: SessionStoreContract.allChecks)
    func contract(_ check: SessionStoreContractCheck) async throws {
        try await Self.withStores { stores in
            try await check.run { clock in stores.make(clock: clock) }
        }
    }

    @Test func persistsAcrossReopen() async throws {
        try await Self.withStores { stores in
            let key = SessionID().storageKey
            let first = stores.make(file: "shared")
            let session = Self.session(SessionClock.system(), user: "alice")
            try await first.create(key, session)
            try await first.close()
            let second = stores.make(file: "shared")
            #expect(try await second.load(key) == session)
            #expect(try await second.sessions(ofUser: "alice").map(\.key) == [key])
        }
    }

    @Test func createsAVersionedSchemaInWALMode() async throws {
        try await Self.withStores { stores in
            let store = stores.make(file: "schema")
            try await store.migrate()
            try await store.migrate()
            let connection = try await SQLiteConnection.open(storage: .file(path: "\(stores.directory)/schema.sqlite"))
            do {
                let version = try await connection.query("PRAGMA user_version").first?.columns.first?.data.integer
                #expect(version == SQLiteSessionStore.schemaVersion)
                let mode = try await connection.query("PRAGMA journal_mode").first?.columns.first?.data.string
                #expect(mode == "wal")
                let indexes = try await connection.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessionkit_sessions'")
                let names = Set(indexes.compactMap { $0.column("name")?.string })
                #expect(names == ["sessionkit_sessions_sweep_at", "sessionkit_sessions_user_id", "sqlite_autoindex_sessionkit_sessions_1"])
                let triggers = try await connection.query("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'sessionkit_sessions'")
                #expect(triggers.compactMap { $0.column("name")?.string } == ["sessionkit_sessions_sweep_at_follows_expiry"])
                let plan = try await connection.query("EXPLAIN QUERY PLAN SELECT rowid FROM sessionkit_sessions WHERE sweep_at <= 5 AND expires_at <= 5 LIMIT 1000")
                #expect(plan.contains { ($0.column("detail")?.string ?? "").contains("sessionkit_sessions_sweep_at") })
                let userPlan = try await connection.query("EXPLAIN QUERY PLAN SELECT key_hash FROM sessionkit_sessions WHERE user_id = 'u' AND expires_at > 5 ORDER BY created_at")
                #expect(userPlan.contains { ($0.column("detail")?.string ?? "").contains("sessionkit_sessions_user_id") })
                // A database from a newer SessionKit is refused, not damaged.
                _ = try await connection.query("PRAGMA user_version = 99")
            } catch {
                try await connection.close()
                throw error
            }
            try await connection.close()
            let newer = stores.make(file: "schema")
            await #expect(throws: SessionStoreError.self) { try await newer.migrate() }
        }
    }

    /// The version 1 schema, as SessionKit wrote it before `sweep_at`.
    static let version1Schema = """
        CREATE TABLE sessionkit_sessions (
            key_hash BLOB NOT NULL PRIMARY KEY,
            data BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            last_seen_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            absolute_expires_at INTEGER NOT NULL,
            user_id TEXT,
            user_agent TEXT,
            ip_address TEXT
        );
        CREATE INDEX sessionkit_sessions_expires_at ON sessionkit_sessions (expires_at);
        CREATE INDEX sessionkit_sessions_user_id ON sessionkit_sessions (user_id, created_at) WHERE user_id IS NOT NULL;
        PRAGMA user_version = 1;
        """

    @Test func migratesAVersion1DatabaseKeepingItsSessions() async throws {
        try await Self.withStores { stores in
            let clock = ContractClock()
            let now = clock.now
            let live = SessionID().storageKey, expired = SessionID().storageKey
            let data = SessionRecordCoding.encode(["n": SessionValue(json: Array("7".utf8))])
            let connection = try await SQLiteConnection.open(storage: .file(path: "\(stores.directory)/v1.sqlite"))
            do {
                for statement in Self.version1Schema.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                    _ = try await connection.query(statement)
                }
                for (key, expiresAt, user) in [(live, now + 100, "alice"), (expired, now + 10, "bob")] {
                    _ = try await connection.query("""
                        INSERT INTO sessionkit_sessions (key_hash, data, created_at, last_seen_at, expires_at, absolute_expires_at, user_id)
                        VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6)
                        """, [.blob(.init(bytes: key.bytes)), .blob(.init(bytes: data)), .integer(Int(now)), .integer(Int(expiresAt)), .integer(Int(now + 86_400)), .text(user)])
                }
            } catch {
                try await connection.close()
                throw error
            }
            try await connection.close()

            let store = stores.make(file: "v1", clock: clock.function)
            #expect(try await store.load(live)?.values["n"] == SessionValue(json: Array("7".utf8)))
            #expect(try await store.sessions(ofUser: "alice").map(\.key) == [live])
            clock.advance(by: 50)
            #expect(try await store.touch(live, expiresAt: clock.now + 100))
            #expect(try await store.removeExpired() == 1)
            #expect(try await store.load(expired) == nil)
            #expect(try await store.load(live) != nil)
            try await store.close()

            let check = try await SQLiteConnection.open(storage: .file(path: "\(stores.directory)/v1.sqlite"))
            do {
                #expect(try await check.query("PRAGMA user_version").first?.columns.first?.data.integer == SQLiteSessionStore.schemaVersion)
                let indexes = try await check.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessionkit_sessions'")
                #expect(!indexes.contains { $0.column("name")?.string == "sessionkit_sessions_expires_at" })
                // The migrated row was given its deadline as its sweep time (not 0, which would make
                // the first cleanup look at every row).
                let sweep = try await check.query("SELECT sweep_at FROM sessionkit_sessions WHERE key_hash = ?1", [.blob(.init(bytes: live.bytes))])
                #expect(sweep.first?.column("sweep_at")?.integer == Int(now + 100))
            } catch {
                try await check.close()
                throw error
            }
            try await check.close()
        }
    }

    @Test func writesThatMoveTheDeadlineLaterLeaveTheSweepTimeAlone() async throws {
        try await Self.withStores { stores in
            let clock = ContractClock()
            let store = stores.make(file: "sweep", clock: clock.function)
            let key = SessionID().storageKey
            let start = clock.now
            try await store.create(key, Self.session(start, idle: 100))
            let change = SessionDelta.update(set: ["m": SessionValue(json: Array("1".utf8))], remove: [])
            func sweepAt() async throws -> Int? {
                let connection = try await SQLiteConnection.open(storage: .file(path: "\(stores.directory)/sweep.sqlite"))
                let rows = try await connection.query("SELECT sweep_at, expires_at FROM sessionkit_sessions")
                try await connection.close()
                return rows.first?.column("sweep_at")?.integer
            }
            #expect(try await sweepAt() == Int(start + 100))
            clock.advance(by: 10)
            #expect(try await store.apply(change, to: key, expiresAt: start + 300))
            #expect(try await store.touch(key, expiresAt: start + 400))
            #expect(try await sweepAt() == Int(start + 100))
            // A shorter deadline brings the sweep time with it.
            #expect(try await store.apply(change, to: key, expiresAt: start + 50))
            #expect(try await sweepAt() == Int(start + 50))
            #expect(try await store.touch(key, expiresAt: start + 40))
            #expect(try await sweepAt() == Int(start + 40))
            // Cleanup after the sweep time, before the deadline: the next sweep time is the deadline.
            #expect(try await store.touch(key, expiresAt: start + 500))
            clock.advance(by: 40)
            #expect(try await store.removeExpired() == 0)
            #expect(try await sweepAt() == Int(start + 500))
        }
    }

    @Test func storesOnlyTheHashOfTheID() async throws {
        try await Self.withStores { stores in
            let store = stores.make(file: "hash")
            let id = SessionID()
            try await store.create(id.storageKey, Self.session(SessionClock.system()))
            try await store.close()
            let connection = try await SQLiteConnection.open(storage: .file(path: "\(stores.directory)/hash.sqlite"))
            let rows = try await connection.query("SELECT hex(key_hash) AS k FROM sessionkit_sessions")
            try await connection.close()
            #expect(rows.count == 1)
            #expect(rows.first?.column("k")?.string?.lowercased() == id.storageKey.hex)
        }
    }

    @Test func aCorruptRecordIsReportedAsSuchAndHarmsNoOtherSession() async throws {
        try await Self.withStores { stores in
            let store = stores.make(file: "corrupt")
            let now = SessionClock.system()
            let broken = SessionID().storageKey, intact = SessionID().storageKey
            try await store.create(broken, Self.session(now))
            try await store.create(intact, Self.session(now))
            // Another connection damages one row's blob (a truncated record).
            let connection = try await SQLiteConnection.open(storage: .file(path: "\(stores.directory)/corrupt.sqlite"))
            _ = try await connection.query("PRAGMA busy_timeout = 5000")
            _ = try await connection.query("UPDATE sessionkit_sessions SET data = x'01' WHERE key_hash = ?1", [.blob(.init(bytes: broken.bytes))])
            try await connection.close()
            let delta = SessionDelta.update(set: ["m": SessionValue(json: Array("2".utf8))], remove: [])
            await #expect { try await store.load(broken) } throws: { ($0 as? SessionStoreError)?.code == .corruptRecord }
            await #expect { try await store.apply(delta, to: broken, expiresAt: now + 600) } throws: { ($0 as? SessionStoreError)?.code == .corruptRecord }
            // The other session reads and writes as before, alone or in a batch with the failing write.
            #expect(try await store.apply(delta, to: intact, expiresAt: now + 600))
            let failing = Task { try await store.apply(delta, to: broken, expiresAt: now + 600) }
            let succeeding = Task { try await store.apply(delta, to: intact, expiresAt: now + 600) }
            #expect(try await succeeding.value)
            await #expect(throws: SessionStoreError.self) { try await failing.value }
            #expect(try await store.load(intact)?.values["m"] == SessionValue(json: Array("2".utf8)))
        }
    }

    @Test func cleanupRunsInBatches() async throws {
        try await Self.withStores { stores in
            let clock = ContractClock()
            let store = stores.make(file: "batches", clock: clock.function) { $0.cleanupBatchSize = 100 }
            for index in 0..<450 {
                try await store.create(SessionID().storageKey, Self.session(clock.now, idle: index < 350 ? 10 : 1000))
            }
            clock.advance(by: 10)
            #expect(try await store.removeExpired() == 350)
            #expect(try await store.removeExpired() == 0)
        }
    }

    @Test func twoStoresOnOneFileShareSessions() async throws {
        // As two processes would: separate connections, one file, concurrent writes.
        try await Self.withStores { stores in
            let a = stores.make(file: "shared")
            let b = stores.make(file: "shared")
            let key = SessionID().storageKey
            let now = SessionClock.system()
            try await a.create(key, Self.session(now))
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<40 {
                    let store = index % 2 == 0 ? a : b
                    group.addTask { try await store.apply(.update(set: ["k\(index)": SessionValue(json: Array("1".utf8))], remove: []), to: key, expiresAt: now + 1800) }
                }
                for try await applied in group { #expect(applied) }
            }
            #expect(try await b.load(key)?.values.count == 41)
        }
    }

    /// Sessions are for the server's user alone: the database, its log and its shared-memory file
    /// are made with mode 0600 whatever the umask lets SQLite make.
    @Test func createsItsFilesReadableByTheOwnerOnly() async throws {
        try await Self.withStores { stores in
            let store = stores.make(file: "private")
            try await store.create(SessionID().storageKey, Self.session(SessionClock.system()))
            let path = "\(stores.directory)/private.sqlite"
            for file in [path, path + "-wal", path + "-shm"] {
                let mode = TestFileStatus(path: file)?.permissions
                #expect(mode == 0o600, "\(file): \(mode.map { String($0, radix: 8) } ?? "none")")
            }
        }
    }

    /// A read-only store (what `sessionkit sessions list` opens) reads an older schema as it is,
    /// never migrates or writes, and refuses writes.
    @Test func aReadOnlyStoreNeitherMigratesNorWrites() async throws {
        try await Self.withStores { stores in
            // The session lives an hour: under a sanitizer on a loaded machine this test took 126 s,
            // past the 100 s it had (`scripts/test --sanitize address`, 2026-12-05, and the TSan run of 12-04).
            let now = SessionClock.system()
            let key = SessionID().storageKey
            let path = "\(stores.directory)/v1-read.sqlite"
            let connection = try await SQLiteConnection.open(storage: .file(path: path))
            do {
                for statement in Self.version1Schema.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                    _ = try await connection.query(statement)
                }
                _ = try await connection.query("""
                    INSERT INTO sessionkit_sessions (key_hash, data, created_at, last_seen_at, expires_at, absolute_expires_at, user_id)
                    VALUES (?1, ?2, ?3, ?3, ?4, ?5, 'alice')
                    """, [.blob(.init(bytes: key.bytes)), .blob(.init(bytes: SessionRecordCoding.encode(["n": SessionValue(json: Array("7".utf8))]))), .integer(Int(now)), .integer(Int(now + 3600)), .integer(Int(now + 86_400))])
            } catch {
                try await connection.close()
                throw error
            }
            try await connection.close()
            let before = try #require(FileManager.default.contents(atPath: path))

            let reader = stores.make(file: "v1-read", configure: { $0.readOnly = true })
            try await reader.migrate()
            #expect(try await reader.sessions(ofUser: "alice").map(\.key) == [key])
            let statistics = try await reader.statistics()
            #expect(statistics.live == 1 && statistics.expired == 0 && statistics.users == 1)
            #expect(try await reader.load(key) != nil)
            await #expect(throws: SessionStoreError.self) { try await reader.create(SessionID().storageKey, Self.session(now)) }
            await #expect(throws: SessionStoreError.self) { _ = try await reader.removeExpired() }
            try await reader.close()
            #expect(FileManager.default.contents(atPath: path) == before)

            // Nothing is created for a missing file.
            let missing = stores.make(file: "missing", configure: { $0.readOnly = true })
            await #expect(throws: SessionStoreError.self) { try await missing.migrate() }
            #expect(!FileManager.default.fileExists(atPath: "\(stores.directory)/missing.sqlite"))
        }
    }

    @Test func aClosedStoreIsUnavailable() async throws {
        try await Self.withStores { stores in
            let store = stores.make()
            try await store.migrate()
            try await store.close()
            await #expect(throws: SessionStoreError.self) { _ = try await store.load(SessionID().storageKey) }
        }
    }

    @Test func anUnopenableFileIsUnavailable() async throws {
        let store = SQLiteSessionStore(path: "/nonexistent-directory-\(UUID().uuidString)/sessions.sqlite")
        await #expect(throws: SessionStoreError.self) { try await store.migrate() }
        try await store.close()
    }

    @Test func runsAsAServiceAndClosesOnShutdown() async throws {
        try await Self.withStores { stores in
            let clock = ContractClock()
            let store = stores.make(clock: clock.function) { $0.cleanupInterval = .milliseconds(10) }
            try await store.create(SessionID().storageKey, Self.session(clock.now, idle: 5))
            let live = SessionID().storageKey
            try await store.create(live, Self.session(clock.now))
            clock.advance(by: 5)
            let group = ServiceGroup(configuration: .init(services: [store], gracefulShutdownSignals: [], logger: Logger(label: "test")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await Task.sleep(for: .milliseconds(100))
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            // Cleanup ran (the live session is untouched), then the store closed.
            await #expect(throws: SessionStoreError.self) { _ = try await store.load(live) }
            let reopened = stores.make(file: URL(fileURLWithPath: store.configuration.path).deletingPathExtension().lastPathComponent, clock: clock.function)
            #expect(try await reopened.load(live) != nil)
            #expect(try await reopened.removeExpired() == 0)
        }
    }

    @Test func concurrentWritesEachGetTheirOwnResult() async throws {
        // Enough writers at once that the store commits them in shared transactions; each still
        // gets the result it would get alone, and no update resurrects a deleted or expired row.
        try await Self.withStores { stores in
            let clock = ContractClock()
            let store = stores.make(clock: clock.function)
            let now = clock.now
            let live = (0..<40).map { _ in SessionID().storageKey }
            let deleted = (0..<16).map { _ in SessionID().storageKey }
            let expired = (0..<16).map { _ in SessionID().storageKey }
            let fresh = (0..<16).map { _ in SessionID().storageKey }
            for key in live + deleted { try await store.create(key, Self.session(now)) }
            for key in expired { try await store.create(key, Self.session(now, idle: 5)) }
            for key in deleted { try await store.delete(key) }
            clock.advance(by: 10)
            let later = clock.now
            let change = SessionDelta.update(set: ["x": SessionValue(json: Array("2".utf8))], remove: [])
            try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                for key in live { group.addTask { ("live", try await store.apply(change, to: key, expiresAt: later + 1800)) } }
                for key in deleted { group.addTask { ("deleted", try await store.apply(change, to: key, expiresAt: later + 1800)) } }
                for key in expired { group.addTask { ("expired", try await store.touch(key, expiresAt: later + 1800)) } }
                for key in fresh { group.addTask { try await store.create(key, Self.session(later)); return ("fresh", true) } }
                for key in live.prefix(8) {
                    group.addTask {
                        do {
                            try await store.create(key, Self.session(later))
                            return ("duplicate", true)
                        } catch let error as SessionStoreError where error.code == .alreadyExists {
                            return ("duplicate", false)
                        }
                    }
                }
                // A rename onto a live session fails in SQLite (a unique key): only that rename fails.
                for (old, new) in zip(live.suffix(8), live.prefix(8)) {
                    group.addTask {
                        do {
                            _ = try await store.rename(old, to: new)
                            return ("rename onto a live session", true)
                        } catch let error as SessionStoreError where error.code == .alreadyExists {
                            return ("rename onto a live session", false)
                        }
                    }
                }
                for try await (kind, result) in group {
                    #expect(result == (kind == "live" || kind == "fresh"), "\(kind) write reported \(result)")
                }
            }
            for key in live { #expect(try await store.load(key)?.values["x"]?.jsonBytes == Array("2".utf8)) }
            for key in deleted + expired { #expect(try await store.load(key) == nil) }
            for key in fresh { #expect(try await store.load(key) != nil) }
        }
    }

    @Test(arguments: [0, 1, 2])
    func readsSeeEveryCompletedWrite(readerCount: Int) async throws {
        // Other tasks keep the reader and writer connections busy meanwhile.
        try await Self.withStores { stores in
            let store = stores.make(configure: { $0.readerCount = readerCount })
            let now = SessionClock.system()
            let key = SessionID().storageKey
            let noise = SessionID().storageKey
            try await store.create(key, Self.session(now))
            try await store.create(noise, Self.session(now))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        for index in 0..<200 {
                            _ = try await store.load(noise)
                            _ = try await store.apply(.update(set: ["x": SessionValue(json: Array("\(index)".utf8))], remove: []), to: noise, expiresAt: now + 1800)
                        }
                    }
                }
                group.addTask {
                    for index in 0..<200 {
                        let value = SessionValue(json: Array("\(index)".utf8))
                        #expect(try await store.apply(.update(set: ["n": value], remove: []), to: key, expiresAt: now + 1800))
                        let loaded = try await store.load(key)?.values["n"]?.jsonBytes
                        #expect(loaded == value.jsonBytes, "write \(index) not visible to the next read")
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}
