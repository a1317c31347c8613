import Foundation
import Logging
import PostgresNIO
import SessionKit
import SessionKitPostgres
import SessionKitTesting
import Testing

/// A database that cannot be reached fails fast and closed; these need no server.
@Suite("PostgresSessionStore without a database")
struct PostgresSessionStoreUnavailableTests {
    /// The pool logs every failed connection attempt; the tests expect them.
    static let quiet: Logger = {
        var logger = Logger(label: "SessionKit.PostgresSessionStore.test")
        logger.logLevel = .critical
        return logger
    }()

    /// A store whose client points at a loopback port nothing listens on, with its client running.
    static func withUnreachableStore(
        runClient: Bool = true, _ body: @escaping @Sendable (PostgresSessionStore) async throws -> Void
    ) async throws {
        let store = PostgresSessionStore(
            host: "127.0.0.1", port: 1, username: "sessionkit", password: "not-a-real-secret-3f9a", database: "sessionkit",
            tls: .disable, configuration: .init(connectionTimeout: .milliseconds(500), runsClient: false), logger: Self.quiet
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            if runClient { group.addTask { await PostgresClientRunner.run(store.client, grace: TestTimeScale.limit(.seconds(10)), logger: Logger(label: "test")) } }
            defer { group.cancelAll() }
            try await body(store)
        }
    }

    @Test func anUnreachableServerIsUnavailableQuickly() async throws {
        try await Self.withUnreachableStore { store in
            let start = ContinuousClock.now
            let error = await #expect(throws: SessionStoreError.self) { _ = try await store.load(SessionID().storageKey) }
            #expect(error?.code == .unavailable)
            // Not a performance goal: a hang would be postgres-nio's 60-second breaker; a loaded CI
            // machine can take several seconds for the timeout path itself.
            #expect(ContinuousClock.now - start < TestTimeScale.limit(.seconds(30)), "must fail after the connection timeout, not hang")
            let message = String(describing: error)
            #expect(!message.contains("not-a-real-secret-3f9a") && !message.contains("SELECT"), "\(message)")
            // Every operation, and again (the failed migration is retried, not remembered).
            let key = SessionID().storageKey
            await #expect(throws: SessionStoreError.self) { _ = try await store.apply(.replaceAll([:]), to: key, expiresAt: 0) }
            await #expect(throws: SessionStoreError.self) { try await store.delete(key) }
            await #expect(throws: SessionStoreError.self) { _ = try await store.removeExpired() }
            await #expect(throws: SessionStoreError.self) { try await store.migrate() }
        }
    }

    @Test func aStoreWhoseClientIsNotRunningIsUnavailable() async throws {
        try await Self.withUnreachableStore(runClient: false) { store in
            let error = await #expect(throws: SessionStoreError.self) { _ = try await store.load(SessionID().storageKey) }
            #expect(error?.code == .unavailable)
        }
    }

    @Test func runFailsWhenTheDatabaseCannotBeMigrated() async throws {
        let store = PostgresSessionStore(
            host: "127.0.0.1", port: 1, username: "sessionkit", password: nil, database: nil, tls: .disable,
            configuration: .init(connectionTimeout: .milliseconds(300)), logger: Self.quiet
        )
        let error = await #expect(throws: SessionStoreError.self) { try await store.run() }
        #expect(error?.code == .unavailable)
    }
}
