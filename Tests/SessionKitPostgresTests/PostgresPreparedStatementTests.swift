import Foundation
import PostgresNIO
@testable import SessionKit
@testable import SessionKitPostgres
import SessionKitTesting
import Testing

/// The store's frequent statements run prepared (parsed and planned once per connection), or
/// unnamed with the same SQL when `usesPreparedStatements` is off; both keep the contract, and
/// stores in different schemas on one client never run each other's statements.
@Suite("PostgresSessionStore prepared statements", .enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason))
struct PostgresPreparedStatementTests {
    @Test(arguments: SessionStoreContract.allChecks)
    func contractWithoutPreparedStatements(_ check: SessionStoreContractCheck) async throws {
        try await PostgresTestDatabase.with { database in
            try await check.run { clock in database.makeStore(clock: clock) { $0.usesPreparedStatements = false } }
        }
    }

    @Test func namesAreUniqueToTheirSQLAndFitPostgreSQLsLimit() {
        let long = String(repeating: "s", count: 63)
        let statements = [nil, "a", "b", long].map { PostgresSessionStatements(tables: Tables(schema: $0)) }
        let all = statements.flatMap { [$0.load, $0.touch, $0.replaceAll, $0.update, $0.updateApplying] }
        #expect(Set(all.map(\.name)).count == all.count)
        #expect(Set(all.map(\.sql)).count == all.count)
        for statement in all {
            #expect(statement.name.utf8.count <= 63, "\(statement.name)")
            #expect(statement.name.hasPrefix("sessionkit_"))
            #expect(statement.name.hasSuffix("_" + PostgresSessionStatements.Statement.fingerprint(statement.sql)))
        }
        // The fingerprint is FNV-1a 64: a known value.
        #expect(PostgresSessionStatements.Statement.fingerprint("") == "cbf29ce484222325")
        #expect(PostgresSessionStatements.Statement.fingerprint("a") == "af63dc4c8601ec8c")
    }

    /// A client of one connection: what the store ran is in that connection's pg_prepared_statements.
    @Test(arguments: [true, false])
    func preparesOnlyWhenAsked(_ prepared: Bool) async throws {
        var configuration = PostgresTestDatabase.clientConfiguration()
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await PostgresClientRunner.run(client, grace: TestTimeScale.limit(.seconds(10)), logger: Logger(label: "test")) }
            let schema = "sessionkit_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            defer { group.cancelAll() }
            // Patient (a hang detector, as the shared test stores): the client's one connection is
            // opened on first use, and under a sanitizer with the suite running in parallel on two
            // cores, that took longer than the default 5 s (`scripts/test --sanitize thread`, 2026-12-05).
            let store = PostgresSessionStore(
                client: client, configuration: .init(schema: schema, connectionTimeout: TestTimeScale.limit(.seconds(30)), runsClient: false, usesPreparedStatements: prepared)
            )
            let now = SessionClock.system()
            let key = SessionID().storageKey
            try await store.create(key, PostgresSessionStoreTests.session(now))
            #expect(try await store.load(key)?.values.count == 1)
            #expect(try await store.touch(key, expiresAt: now + 3600))
            #expect(try await store.apply(.update(set: ["m": SessionValue(json: Array("2".utf8))], remove: []), to: key, expiresAt: now + 3600))
            #expect(try await store.load(key)?.values.count == 2)
            let names = try await client.withConnection { connection in
                var names: [String] = []
                for try await name in try await connection.query("SELECT name FROM pg_prepared_statements", logger: .init(label: "test")).decode(String.self) {
                    names.append(name)
                }
                return names
            }
            let expected = [store.statements.load.name, store.statements.touch.name, store.statements.update.name]
            for name in expected {
                #expect(names.contains(name) == prepared, "\(name) in \(names)")
            }
            _ = try? await client.query("DROP SCHEMA IF EXISTS \(unescaped: schema) CASCADE")
        }
    }

    /// Two stores, two schemas, one client (each of its connections prepares both stores' statements): each runs its own.
    @Test func storesInTwoSchemasOnOneClientKeepTheirOwnStatements() async throws {
        try await PostgresTestDatabase.with { database in
            let (first, second) = (database.makeStore(), database.makeStore())
            let now = SessionClock.system()
            let key = SessionID().storageKey
            try await first.create(key, PostgresSessionStoreTests.session(now))
            for _ in 0..<20 {
                #expect(try await first.load(key) != nil)
                #expect(try await second.load(key) == nil)
                #expect(try await !second.touch(key, expiresAt: now + 3600))
                #expect(try await first.touch(key, expiresAt: now + 3600))
            }
        }
    }

    /// A statement prepared before a migration replaced the merge function still runs (PostgreSQL
    /// plans it again), and so does one prepared before its table was dropped and made again.
    @Test func preparedStatementsSurviveTheSchemaChangingUnderThem() async throws {
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            let store = database.makeStore(schema: schema)
            let now = SessionClock.system()
            let key = SessionID().storageKey
            try await store.create(key, PostgresSessionStoreTests.session(now))
            #expect(try await store.apply(.update(set: ["a": SessionValue(json: Array("1".utf8))], remove: []), to: key, expiresAt: now + 3600))
            _ = try await database.client.query("DROP SCHEMA \(unescaped: schema) CASCADE")
            let again = database.makeStore(schema: schema)
            try await again.migrate()
            #expect(try await store.load(key) == nil)
            try await store.create(key, PostgresSessionStoreTests.session(now))
            #expect(try await store.apply(.update(set: ["b": SessionValue(json: Array("2".utf8))], remove: []), to: key, expiresAt: now + 3600))
            #expect(try await store.load(key)?.values.count == 2)
        }
    }
}
