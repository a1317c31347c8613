import PostgresNIO
import SessionKit
import Synchronization
import Testing

@testable import SessionKitPostgres

/// The wait for a pooled connection, against a real server with a pool of one connection: the
/// watchdog's timeout and the caller's cancellation end the wait, and neither touches the query
/// that holds the connection.
@Suite("PostgresSessionStore connection leases", .enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason))
struct PostgresSessionStoreLeaseTests {
    /// A one-shot signal a test can wait for, giving up after a while (a liveness bound, not a
    /// speed goal: a wait that never ends fails the test instead of hanging the suite).
    final class Signal: Sendable {
        private let raised = Atomic<Bool>(false)
        var isRaised: Bool { raised.load(ordering: .acquiring) }
        func raise() { raised.store(true, ordering: .releasing) }
        func wait(givingUpAfter limit: Duration = .seconds(30)) async throws {
            let giveUp = ContinuousClock.now + limit
            while !isRaised, ContinuousClock.now < giveUp {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    /// Runs `body` with a store whose client has one connection.
    static func withSingleConnectionStore(
        connectionTimeout: Duration, _ body: (PostgresSessionStore) async throws -> Void
    ) async throws {
        try await PostgresTestDatabase.with { database in
            var configuration = PostgresTestDatabase.clientConfiguration()
            configuration.options.maximumConnections = 1
            let client = PostgresClient(configuration: configuration)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let store = PostgresSessionStore(
                    client: client,
                    configuration: .init(schema: database.makeSchema(), connectionTimeout: connectionTimeout, runsClient: false)
                )
                try await body(store)
            }
        }
    }

    /// Holds the store's only connection until `release` is raised (or for 90 seconds, longer than
    /// a test waits for anything else); `leased` is raised once it has it.
    static func holdConnection(of store: PostgresSessionStore, leased: Signal, release: Signal) -> Task<Int, any Error> {
        Task {
            try await store.leasingConnection { connection in
                leased.raise()
                try await release.wait(givingUpAfter: .seconds(90))
                // The connection still works after the other lease gave up.
                let rows = try await connection.query("SELECT 1", logger: store.logger)
                var count = 0
                for try await _ in rows { count += 1 }
                return count
            }
        }
    }

    static func session(_ now: Int64) -> StoredSession {
        StoredSession(values: ["n": SessionValue(json: Array("1".utf8))], createdAt: now, expiresAt: now + 1800, absoluteExpiresAt: now + 86_400)
    }

    @Test func aWaitLongerThanTheTimeoutFailsAndLeavesTheHolderAlone() async throws {
        try await Self.withSingleConnectionStore(connectionTimeout: .milliseconds(200)) { store in
            let key = SessionID().storageKey
            let now = systemSessionClock()
            try await store.create(key, Self.session(now))
            let (leased, release) = (Signal(), Signal())
            let holder = Self.holdConnection(of: store, leased: leased, release: release)
            try await leased.wait()
            #expect(leased.isRaised)

            let ended = Signal()
            let waiting = Task {
                defer { ended.raise() }
                return try await store.load(key)
            }
            try await ended.wait()
            let endedWhileHeld = ended.isRaised
            release.raise()
            #expect(endedWhileHeld, "the wait ended at its timeout, while the connection was still held")
            let error = await #expect(throws: SessionStoreError.self) { _ = try await waiting.value }
            #expect(error?.code == .unavailable)
            #expect(store.leaseWatchdog.expiredCount == 1)
            #expect(try await holder.value == 1, "the query holding the connection finished normally")
            #expect(try await store.load(key) == Self.session(now), "the connection serves the next lease")
            #expect(store.leaseWatchdog.watchedCount == 0, "every lease has left the watchdog")
        }
    }

    @Test func aCancelledWaitEndsWithoutTheTimeout() async throws {
        // A timeout far longer than the test: only the caller's cancellation can end the wait.
        try await Self.withSingleConnectionStore(connectionTimeout: .seconds(600)) { store in
            let key = SessionID().storageKey
            let now = systemSessionClock()
            try await store.create(key, Self.session(now))
            let (leased, release) = (Signal(), Signal())
            let holder = Self.holdConnection(of: store, leased: leased, release: release)
            try await leased.wait()

            let ended = Signal()
            let waiting = Task {
                defer { ended.raise() }
                return try await store.load(key)
            }
            try await Task.sleep(for: .milliseconds(50))
            waiting.cancel()
            try await ended.wait()
            let endedWhileHeld = ended.isRaised
            release.raise()
            #expect(endedWhileHeld, "the cancelled wait ended while the connection was still held")
            await #expect(throws: (any Error).self) { _ = try await waiting.value }
            #expect(store.leaseWatchdog.expiredCount == 0)
            #expect(try await holder.value == 1)
            #expect(try await store.load(key) == Self.session(now))
            #expect(store.leaseWatchdog.watchedCount == 0)
        }
    }
}
