import Foundation
import NIOCore
import PostgresNIO
import SessionKit
@testable import SessionKitPostgres
import SessionKitTesting
import Testing

/// ``PostgresWireConnection`` and ``PostgresWirePool`` against the real server: many statements
/// pipelined on one connection (each gets its own answer, and one failure stays its own), a
/// prepared statement parsed again after its `Parse` failed or the server dropped it, a 4 MB value
/// both ways, a backend terminated under the pool, and a store made from a URL running its request
/// path on its own connections. Plus: the options never show the password.
@Suite(
    "PostgresWireConnection against the test server",
    .enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason)
)
struct PostgresWireConnectionTests {
    static let double = PostgresWireStatement(name: "sessionkit_wire_test_double", sql: "SELECT $1::int8 * 2", parameterTypes: [.int8])
    static let divide = PostgresWireStatement(name: "sessionkit_wire_test_divide", sql: "SELECT 1 / $1::int8", parameterTypes: [.int8])

    /// Runs `body` with a fresh schema, dropped at the end.
    static func withSchema(_ body: (String, PostgresWireConnection) async throws -> Void) async throws {
        let schema = WireTest.uniqueName("sessionkit_wire_test_")
        let admin = try await WireTest.connect()
        defer { admin.close() }
        _ = try await admin.run(WireTest.sql("CREATE SCHEMA \(schema)"), .init()).get()
        do {
            try await body(schema, admin)
        } catch {
            _ = try? await admin.run(WireTest.sql("DROP SCHEMA IF EXISTS \(schema) CASCADE"), .init()).get()
            throw error
        }
        _ = try await admin.run(WireTest.sql("DROP SCHEMA IF EXISTS \(schema) CASCADE"), .init()).get()
    }

    // MARK: Pipelining

    /// 200 concurrent statements on a pool of one connection: each gets its own answer, the one
    /// that divides by zero fails alone (SQLSTATE 22012) and the rest succeed, and the server saw
    /// one connection.
    @Test func twoHundredConcurrentStatementsShareOneConnection() async throws {
        let name = WireTest.uniqueName("sessionkit_wire_pipe_")
        let pool = PostgresWirePool(options: try WireTest.options(applicationName: name), size: 1)
        defer { pool.close() }
        let failing = 137
        let outcomes = try await withThrowingTaskGroup(of: (Int, Result<Int64, PostgresWireError>).self) { group in
            for index in 0..<200 {
                group.addTask {
                    do {
                        let result = index == failing
                            ? try await pool.run(Self.divide, WireTest.int8(0))
                            : try await pool.run(Self.double, WireTest.int8(Int64(index) * 1_000_003))
                        return (index, .success(try result.int64()))
                    } catch let error as PostgresWireError {
                        return (index, .failure(error))
                    }
                }
            }
            var outcomes: [Int: Result<Int64, PostgresWireError>] = [:]
            for try await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
        #expect(outcomes.count == 200)
        for (index, outcome) in outcomes.sorted(by: { $0.key < $1.key }) {
            switch outcome {
            case .success(let value):
                #expect(index != failing, "1 / 0 succeeded with \(value)")
                #expect(value == Int64(index) * 1_000_003 * 2, "statement \(index) got another's answer: \(value)")
            case .failure(let error):
                #expect(index == failing, "statement \(index) failed: \(error.message)")
                #expect(error.kind == .server && error.sqlState == "22012", "\(error.kind) \(error.sqlState ?? "-"): \(error.message)")
            }
        }
        // The connection is still good after the failure, and it was the only one.
        #expect(try await pool.run(Self.double, WireTest.int8(4)).int64() == 8)
        let observer = try await WireTest.connect()
        defer { observer.close() }
        #expect(try await WireTest.activity(applicationName: name, on: observer).count == 1)
    }

    // MARK: Parsing again

    /// A prepared statement on a table that does not exist fails (42P01, in its `Parse`); once the
    /// table exists, the same statement on the same connection is parsed again and succeeds.
    @Test func aStatementWhoseParseFailedIsParsedAgain() async throws {
        try await Self.withSchema { schema, admin in
            let connection = try await WireTest.connect()
            defer { connection.close() }
            let count = PostgresWireStatement(name: "sessionkit_wire_test_count", sql: "SELECT count(*) FROM \(schema).later", parameterTypes: [])
            let error = await #expect(throws: PostgresWireError.self) { _ = try await connection.run(count, .init()).get() }
            #expect(error?.kind == .server && error?.sqlState == "42P01", "\(error?.message ?? "")")
            _ = try await admin.run(WireTest.sql("CREATE TABLE \(schema).later (id int8)"), .init()).get()
            #expect(try await connection.run(count, .init()).get().int64() == 0)
            #expect(try await connection.run(count, .init()).get().int64() == 0)
            #expect(connection.isActive)
        }
    }

    /// The server dropped the connection's prepared statements (`DEALLOCATE ALL`, as a pooler's
    /// `DISCARD ALL` does): the next run fails with 26000 and the one after parses again.
    @Test func aStatementTheServerDroppedIsParsedAgain() async throws {
        let connection = try await WireTest.connect()
        defer { connection.close() }
        #expect(try await connection.run(Self.double, WireTest.int8(5)).get().int64() == 10)
        _ = try await connection.run(WireTest.sql("DEALLOCATE ALL"), .init()).get()
        let error = await #expect(throws: PostgresWireError.self) { _ = try await connection.run(Self.double, WireTest.int8(6)).get() }
        #expect(error?.sqlState == "26000", "\(error?.message ?? "")")
        #expect(try await connection.run(Self.double, WireTest.int8(7)).get().int64() == 14)
        #expect(try await connection.run(Self.double, WireTest.int8(8)).get().int64() == 16)
    }

    /// A failed `Parse` with more runs of the statement already in flight behind it (pipelined,
    /// sent without a `Parse` of their own): they fail (26000), and a run sent after the failure,
    /// which parses again, succeeds. The late 26000s must not make the connection forget that
    /// statement is prepared again: the runs after it must use it, not `Parse` it once more
    /// (which the server refuses, 42P05, on every run after).
    @Test func lateFailuresOfAStatementDoNotUndoItsNewParse() async throws {
        try await Self.withSchema { schema, admin in
            let connection = try await WireTest.connect()
            defer { connection.close() }
            let count = PostgresWireStatement(name: "sessionkit_wire_test_late", sql: "SELECT count(*) FROM \(schema).later", parameterTypes: [])
            // In this order on the wire: A (with its Parse, which fails), a slow statement, B
            // (without a Parse: the connection believes A's is coming). All three in one turn of
            // the event loop, so A's failure cannot arrive before B is written (under load it did,
            // and B, parsed again, succeeded once the table was there).
            let (a, slow, b) = try await connection.channel.eventLoop.submit {
                (connection.run(count, .init()), connection.run(WireTest.sql("SELECT pg_sleep(1)"), .init()), connection.run(count, .init()))
            }.get()
            let errorA = await #expect(throws: PostgresWireError.self) { _ = try await a.get() }
            #expect(errorA?.sqlState == "42P01", "\(errorA?.message ?? "")")
            // While the server sleeps: the table appears, and C (with a Parse again) is sent
            // before B's answer is in.
            _ = try await admin.run(WireTest.sql("CREATE TABLE \(schema).later (id int8)"), .init()).get()
            let c: EventLoopFuture<PostgresWireResult> = connection.run(count, .init())
            _ = try await slow.get()
            let errorB = await #expect(throws: PostgresWireError.self) { _ = try await b.get() }
            #expect(errorB?.sqlState == "26000", "\(errorB?.message ?? "")")
            #expect(try await c.get().int64() == 0)
            // The statement is prepared: the runs after C use it.
            for _ in 0..<3 {
                do {
                    #expect(try await connection.run(count, .init()).get().int64() == 0)
                } catch let error as PostgresWireError {
                    Issue.record("a run after the new Parse failed: \(error.sqlState ?? "-") \(error.message)")
                }
            }
        }
    }

    // MARK: Large values

    @Test func aFourMegabyteValueComesBackEqual() async throws {
        let connection = try await WireTest.connect()
        defer { connection.close() }
        var generator = SystemRandomNumberGenerator()
        let value = (0..<(4 << 20)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        var bindings = PostgresWireBindings(capacity: value.count + 8)
        bindings.append(bytes: value)
        let echo = PostgresWireStatement(name: "sessionkit_wire_test_echo", sql: "SELECT $1::bytea", parameterTypes: [.bytea])
        let result = try await connection.run(echo, bindings).get()
        let back = try result.bytes()
        #expect(back.count == value.count)
        #expect(back == value)
        // The connection goes on after it.
        #expect(try await connection.run(Self.double, WireTest.int8(1)).get().int64() == 2)
    }

    // MARK: A terminated backend

    /// `pg_terminate_backend` from another connection: the connection notices (it closes without a
    /// statement sent), its next statement fails at once as not sent, and a pool's next statement
    /// succeeds on a new connection (a new backend).
    @Test func aTerminatedBackendFailsQuicklyAndThePoolReconnects() async throws {
        let name = WireTest.uniqueName("sessionkit_wire_kill_")
        let pool = PostgresWirePool(options: try WireTest.options(applicationName: name), size: 1)
        defer { pool.close() }
        let backend = PostgresWireStatement(name: "", sql: "SELECT pg_backend_pid()::int8", parameterTypes: [])
        let first = try await pool.run(backend, .init()).int64()
        let observer = try await WireTest.connect()
        defer { observer.close() }
        #expect(try await WireTest.activity(applicationName: name, on: observer).map(\.pid) == [first])

        let terminate = PostgresWireStatement(name: "", sql: "SELECT pg_terminate_backend($1::int8::int4)", parameterTypes: [.int8])
        #expect(try await observer.run(terminate, WireTest.int8(first)).get().bool())
        // The statement right after: an error (any PostgresWireError) or, through the pool's one
        // retry of a statement never sent, an answer from a new backend; never a hang.
        let start = ContinuousClock.now
        do {
            let pid = try await pool.run(backend, .init()).int64()
            #expect(pid != first)
        } catch let error as PostgresWireError {
            #expect([.connectionClosed, .notSent].contains(error.kind), "\(error.kind): \(error.message)")
        }
        #expect(ContinuousClock.now - start < TestTimeScale.limit(.seconds(10)), "hung on a terminated backend")
        let second = try await pool.run(backend, .init()).int64()
        #expect(second != first)
        #expect(try await WireTest.activity(applicationName: name, on: observer).map(\.pid) == [second])
    }

    @Test func aSingleConnectionNoticesItsTerminationAndRefusesToSend() async throws {
        let name = WireTest.uniqueName("sessionkit_wire_kill_")
        let connection = try await WireTest.connect(applicationName: name)
        defer { connection.close() }
        let observer = try await WireTest.connect()
        defer { observer.close() }
        let pid = try #require(try await WireTest.activity(applicationName: name, on: observer).first?.pid)
        let terminate = PostgresWireStatement(name: "", sql: "SELECT pg_terminate_backend($1::int8::int4)", parameterTypes: [.int8])
        #expect(try await observer.run(terminate, WireTest.int8(pid)).get().bool())
        let deadline = ContinuousClock.now + TestTimeScale.limit(.seconds(10))
        while connection.isActive, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!connection.isActive, "the connection did not notice the server closed it")
        let error = await #expect(throws: PostgresWireError.self) { _ = try await connection.run(Self.double, WireTest.int8(1)).get() }
        #expect(error?.kind == .notSent)
    }

    // MARK: A store made from a URL

    /// `PostgresSessionStore(url:)` runs its request path on its own `pool_size` connections: after a
    /// create and 30 loads of other keys (enough to reach every connection, whether the pool picks
    /// them round-robin or by the key), the server shows three connections under the URL's
    /// `application_name` whose last statements are the store's.
    @Test func aStoreMadeFromAURLRunsItsRequestsOnItsOwnConnections() async throws {
        let name = WireTest.uniqueName("sessionkit_wire_store_")
        let base = try #require(PostgresTestDatabase.url)
        let url = try PostgresConnectionURL(
            base + (base.contains("?") ? "&" : "?") + "sslmode=disable&pool_size=3&application_name=\(name)", environment: [:]
        )
        let schema = WireTest.uniqueName("sessionkit_test_wire_")
        let store = try PostgresSessionStore(
            url: url,
            configuration: PostgresSessionStoreConfiguration(schema: schema, connectionTimeout: TestTimeScale.limit(.seconds(30)), runsClient: false)
        )
        let observer = try await WireTest.connect()
        defer { observer.close() }
        let wirePool = try #require(store.wirePool)
        #expect(wirePool.size == 3)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await PostgresClientRunner.run(store.client, grace: TestTimeScale.limit(.seconds(10)), logger: Logger(label: "test")) }
            defer { group.cancelAll() }
            do {
                let key = SessionID().storageKey
                let now = SessionClock.system()
                let session = StoredSession(
                    values: ["n": SessionValue(json: Array("1".utf8))], createdAt: now, expiresAt: now + 1800, absoluteExpiresAt: now + 86_400
                )
                try await store.create(key, session)
                #expect(try await store.load(key)?.values == session.values)
                for _ in 0..<30 { #expect(try await store.load(SessionID().storageKey) == nil) }

                let requestPath = [store.statements.create.sql, store.statements.load.sql]
                let queries = try await WireTest.activity(applicationName: name, on: observer).map(\.query)
                #expect(queries.filter { requestPath.contains($0) }.count == 3, "\(queries)")
                #expect(queries.contains(store.statements.load.sql), "\(queries)")
            } catch {
                wirePool.close()
                _ = try? await observer.run(WireTest.sql("DROP SCHEMA IF EXISTS \(schema) CASCADE"), .init()).get()
                throw error
            }
            wirePool.close()
            _ = try await observer.run(WireTest.sql("DROP SCHEMA IF EXISTS \(schema) CASCADE"), .init()).get()
        }
    }

    // MARK: The password stays out of sight

    @Test func theOptionsNeverShowThePassword() throws {
        let secret = "wire-secret-\(UUID())"
        var options = try WireTest.options(password: secret, applicationName: "sessionkit_wire_redaction")
        options.tls = .disable
        var dumped = ""
        dump(options, to: &dumped)
        let pool = PostgresWirePool(options: options, size: 1)
        defer { pool.close() }
        var dumpedPool = ""
        dump(pool, to: &dumpedPool)
        for shown in ["\(options)", String(reflecting: options), dumped, dumpedPool] {
            #expect(!shown.contains(secret), "shows the password: \(shown)")
        }
        #expect("\(options)".contains(":********@"))
        #expect(dumped.contains("********") && dumped.contains("sessionkit_wire_redaction"), "\(dumped)")
    }
}
