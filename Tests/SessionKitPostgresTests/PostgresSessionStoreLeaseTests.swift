import PostgresNIO
import SessionKit
import SessionKitTesting
import Testing

@testable import SessionKitPostgres

/// The wait for a pooled connection, against a real server with a pool of one connection: the
/// watchdog's timeout and the caller's cancellation end the wait, and neither touches the query
/// that holds the connection.
@Suite("PostgresSessionStore connection leases", .enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason))
struct PostgresSessionStoreLeaseTests {
    /// Two stores on one schema and one client that has one connection: the store under test, with
    /// `connectionTimeout`, and a patient one (30 seconds) for everything around the wait, so that a
    /// loaded machine's slow connection set-up cannot time out the test's own steps.
    struct Stores {
        let tested: PostgresSessionStore
        let patient: PostgresSessionStore
    }

    /// Runs `body` with ``Stores`` on a client that has one connection.
    static func withSingleConnectionStores(
        connectionTimeout: Duration, _ body: (Stores) async throws -> Void
    ) async throws {
        try await PostgresTestDatabase.with { database in
            var configuration = PostgresTestDatabase.clientConfiguration()
            configuration.options.maximumConnections = 1
            let client = PostgresClient(configuration: configuration)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await PostgresClientRunner.run(client, grace: TestTimeScale.limit(.seconds(10)), logger: Logger(label: "test")) }
                defer { group.cancelAll() }
                let schema = database.makeSchema()
                let stores = Stores(
                    tested: PostgresSessionStore(client: client, configuration: .init(schema: schema, connectionTimeout: connectionTimeout, runsClient: false)),
                    patient: PostgresSessionStore(client: client, configuration: .init(schema: schema, connectionTimeout: TestTimeScale.limit(.seconds(30)), runsClient: false))
                )
                try await body(stores)
            }
        }
    }

    /// What happened to a load that waited for the store's only connection while another query held it.
    struct HeldWait {
        /// The load ended before the holder let go of the connection.
        var endedWhileHeld: Bool
        /// The load's outcome.
        var outcome: Result<StoredSession?, any Error>
        /// The holder's own query, run after the load ended: 1 when it finished normally.
        var holderRows: Int
    }

    /// Creates a session, holds the only connection with another query, runs a load of the session
    /// through the tested store meanwhile (cancelled after 50 ms when `cancelling`), waits for the
    /// load to end (or 30 seconds), then lets the holder go (it runs `SELECT 1` on the connection
    /// and ends).
    static func loadWhileTheConnectionIsHeld(
        _ stores: Stores, cancelling: Bool
    ) async throws -> (HeldWait, key: SessionStorageKey, session: StoredSession) {
        let (store, patient) = (stores.tested, stores.patient)
        let key = SessionID().storageKey
        let session = Self.session(SessionClock.system())
        try await patient.create(key, session)
        // The tested store's schema check, while the connection is free: its load then only waits.
        try await store.migrate()
        let (leased, release, ended) = (EventCount(), EventCount(), EventCount())
        let holder = Task {
            try await patient.leasingConnection { connection in
                leased.record()
                // Longer than the test waits for anything else.
                try await release.wait(givingUpAfter: .seconds(90))
                var rows = 0
                for try await _ in try await connection.query("SELECT 1", logger: patient.logger) { rows += 1 }
                return rows
            }
        }
        try await leased.wait()
        #expect(leased.happened, "the holder got the connection")
        let waiting = Task {
            defer { ended.record() }
            return try await store.load(key)
        }
        if cancelling {
            try await Task.sleep(for: .milliseconds(50))
            waiting.cancel()
        }
        try await ended.wait()
        let endedWhileHeld = ended.happened
        release.record()
        let outcome = await waiting.result
        return (HeldWait(endedWhileHeld: endedWhileHeld, outcome: outcome, holderRows: try await holder.value), key, session)
    }

    static func session(_ now: Int64) -> StoredSession {
        StoredSession(values: ["n": SessionValue(json: Array("1".utf8))], createdAt: now, expiresAt: now + 1800, absoluteExpiresAt: now + 86_400)
    }

    @Test func aWaitLongerThanTheTimeoutFailsAndLeavesTheHolderAlone() async throws {
        try await Self.withSingleConnectionStores(connectionTimeout: .milliseconds(200)) { stores in
            let store = stores.tested
            let (wait, key, session) = try await Self.loadWhileTheConnectionIsHeld(stores, cancelling: false)
            #expect(wait.endedWhileHeld, "the wait ended at its timeout, while the connection was still held")
            #expect(throws: SessionStoreError.self) { _ = try wait.outcome.get() }
            if case .failure(let error as SessionStoreError) = wait.outcome {
                #expect(error.code == .unavailable)
                #expect(error.message.contains("no database connection became available in time"), "the wait's own timeout: \(error.message)")
            }
            // At least the wait's; the timer also looks at a lease's connection each timeout while
            // its statements run (the store's migration, on a loaded machine, can take several).
            #expect(store.leaseWatchdog.expiredCount >= 1)
            #expect(wait.holderRows == 1, "the query holding the connection finished normally")
            #expect(try await stores.patient.load(key) == session, "the connection serves the next lease")
            #expect(store.leaseWatchdog.watchedCount == 0, "every lease has left the watchdog")
        }
    }

    @Test func aCancelledWaitEndsWithoutTheTimeout() async throws {
        // A timeout far longer than the test: only the caller's cancellation can end the wait.
        try await Self.withSingleConnectionStores(connectionTimeout: .seconds(600)) { stores in
            let store = stores.tested
            let (wait, key, session) = try await Self.loadWhileTheConnectionIsHeld(stores, cancelling: true)
            #expect(wait.endedWhileHeld, "the cancelled wait ended while the connection was still held")
            #expect(throws: (any Error).self) { _ = try wait.outcome.get() }
            #expect(store.leaseWatchdog.expiredCount == 0)
            #expect(wait.holderRows == 1)
            #expect(try await store.load(key) == session)
            #expect(store.leaseWatchdog.watchedCount == 0)
        }
    }
}
