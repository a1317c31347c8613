import Foundation
import Logging
import PostgresNIO
import SessionKit
@testable import SessionKitPostgres
import SessionKitTesting
import Synchronization
import Testing

/// The PostgreSQL server the tests use, from `SESSIONKIT_POSTGRES_URL`
/// (`postgres://user[:password]@host[:port]/database`, as `scripts/postgres-server start` prints),
/// and one test's isolated corner of it: every store gets a schema of its own, dropped at the end,
/// so tests run in parallel.
///
/// ```swift
/// try await PostgresTestDatabase.with { database in
///     let store = database.makeStore()
///     try await store.create(SessionID().storageKey, session)
/// }
/// ```
final class PostgresTestDatabase: Sendable {
    static let url = ProcessInfo.processInfo.environment["SESSIONKIT_POSTGRES_URL"]
    static let isConfigured = url != nil
    static let skipReason: Comment = "SESSIONKIT_POSTGRES_URL is not set: start one with `eval \"$(scripts/postgres-server start)\"` and export it"

    /// The client configuration for the server in ``url``.
    static func clientConfiguration() -> PostgresClient.Configuration {
        guard let url, let components = URLComponents(string: url), let host = components.host, let user = components.user else {
            fatalError("SESSIONKIT_POSTGRES_URL must look like postgres://user@host:port/database")
        }
        let database = String(components.path.drop { $0 == "/" })
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database.isEmpty ? nil : database, tls: .disable
        )
        configuration.options.maximumConnections = 8
        return configuration
    }

    /// A client for the server; someone must `run()` it.
    static func makeClient() -> PostgresClient {
        PostgresClient(configuration: clientConfiguration())
    }

    /// The client the test's stores share; it runs for the test's duration.
    let client: PostgresClient
    private let schemas = Mutex<[String]>([])

    private init(client: PostgresClient) {
        self.client = client
    }

    /// Runs `body` with a running client, then drops every schema it made.
    static func with(_ body: (PostgresTestDatabase) async throws -> Void) async throws {
        let database = PostgresTestDatabase(client: makeClient())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await PostgresClientRunner.run(database.client, grace: TestTimeScale.limit(.seconds(10)), logger: Logger(label: "test")) }
            var failure: (any Error)?
            do {
                try await body(database)
            } catch {
                failure = error
            }
            for schema in database.schemas.withLock({ $0 }) {
                _ = try? await database.client.query("DROP SCHEMA IF EXISTS \(unescaped: schema) CASCADE")
            }
            group.cancelAll()
            if let failure { throw failure }
        }
    }

    /// A fresh schema name, dropped when the test ends.
    func makeSchema() -> String {
        let schema = "sessionkit_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        schemas.withLock { $0.append(schema) }
        return schema
    }

    /// SessionKit's own connections to the server in ``url`` (in plain text, as the shared client),
    /// for a store with `configuration`: the request path a store made from a URL takes.
    static func makeWirePool(_ configuration: PostgresSessionStoreConfiguration, size: Int = 2) -> PostgresWirePool {
        guard let url else { fatalError("SESSIONKIT_POSTGRES_URL is not set") }
        do {
            let parsed = try PostgresConnectionURL(url.contains("?") ? url : url + "?sslmode=disable")
            return PostgresWirePool(options: try parsed.makeWireOptions(connectionTimeout: configuration.connectionTimeout), size: size)
        } catch {
            fatalError("SESSIONKIT_POSTGRES_URL: \(error)")
        }
    }

    /// A store on the shared client; in a fresh schema unless one is given. With `wire` (the
    /// default), its request path runs on connections of its own, as a store made from a URL does;
    /// without, every statement runs on the shared client.
    func makeStore(
        schema: String? = nil, clock: @escaping @Sendable () -> Int64 = SessionClock.system, wire: Bool = true,
        configure: (inout PostgresSessionStoreConfiguration) -> Void = { _ in }
    ) -> PostgresSessionStore {
        var configuration = PostgresSessionStoreConfiguration(schema: schema ?? makeSchema(), runsClient: false)
        // Patient: the whole suite runs in parallel on two cores, and the contract's 200 concurrent
        // writes to one row queue for the shared client's few connections. The tests of the timeout
        // itself set their own.
        configuration.connectionTimeout = TestTimeScale.limit(.seconds(30))
        configure(&configuration)
        return PostgresSessionStore(
            client: client, wirePool: wire ? Self.makeWirePool(configuration) : nil,
            configuration: configuration, clock: clock, logger: Logger(label: "SessionKit.PostgresSessionStore")
        )
    }
}
