import Foundation
import Logging
import PostgresNIO
import SessionKit
import SessionKitPostgres
import SessionKitTesting
import Synchronization
import Testing

/// The test server reached through ``PostgresConnectionURL``: `SESSIONKIT_POSTGRES_URL` with URL
/// parameters added (`sslmode=require`, ...) and `SESSIONKIT_POSTGRES_TLS_CA`, the CA that signed
/// the server's certificate (both printed by `scripts/postgres-server start`). As
/// ``PostgresTestDatabase`` does, each store gets a schema of its own, dropped at the end.
///
/// ```swift
/// try await PostgresURLTestDatabase.with(PostgresURLTestDatabase.url("sslmode=require")) { database in
///     let store = database.makeStore()
/// }
/// ```
final class PostgresURLTestDatabase: Sendable {
    static let baseURL = ProcessInfo.processInfo.environment["SESSIONKIT_POSTGRES_URL"]
    static let certificateAuthority = ProcessInfo.processInfo.environment["SESSIONKIT_POSTGRES_TLS_CA"]
    static let isConfigured = baseURL != nil && certificateAuthority != nil
    static let skipReason: Comment = """
        SESSIONKIT_POSTGRES_URL or SESSIONKIT_POSTGRES_TLS_CA is not set: start the server with \
        `eval "$(scripts/postgres-server start)"` and export both
        """

    /// The pool logs every failed connection attempt; some tests expect them. To see what the
    /// clients do, set `SESSIONKIT_TEST_POSTGRES_LOG` to a level (`debug`, `trace`).
    static let quiet: Logger = {
        var logger = Logger(label: "SessionKit.PostgresConnectionURL.test")
        logger.logLevel = ProcessInfo.processInfo.environment["SESSIONKIT_TEST_POSTGRES_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    /// The test server's URL with `query` as its parameters, and another host or user when given.
    static func url(_ query: String, host: String? = nil, user: String? = nil) -> String {
        guard let baseURL, var components = URLComponents(string: baseURL) else {
            fatalError("SESSIONKIT_POSTGRES_URL must look like postgres://user@host:port/database")
        }
        if let host { components.host = host }
        if let user { components.user = user }
        components.percentEncodedQuery = query.isEmpty ? nil : query
        return components.string!
    }

    /// `url(query)` parsed, with the password from the environment (none for the test server).
    static func parsed(_ query: String, host: String? = nil, user: String? = nil) throws -> PostgresConnectionURL {
        try PostgresConnectionURL(url(query, host: host, user: user))
    }

    let client: PostgresClient
    private let schemas = Mutex<[String]>([])

    private init(client: PostgresClient) {
        self.client = client
    }

    /// Runs `body` with a running client for `url`, then drops every schema it made.
    static func with(
        _ url: PostgresConnectionURL, logger: Logger = quiet, _ body: (PostgresURLTestDatabase) async throws -> Void
    ) async throws {
        var url = url
        url.poolSize = 4
        let configuration = try url.makeClientConfiguration()
        let trace = UUID().uuidString.prefix(8)
        let logger = {
            var logger = logger
            logger[metadataKey: "test_database"] = "\(trace)"
            return logger
        }()
        let database = PostgresURLTestDatabase(client: PostgresClient(configuration: configuration, backgroundLogger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await PostgresClientRunner.run(database.client, grace: TestTimeScale.limit(.seconds(10)), logger: logger) }
            var failure: (any Error)?
            logger.debug("test database \(trace): body starts")
            do {
                try await body(database)
            } catch {
                failure = error
            }
            logger.debug("test database \(trace): body ended, dropping \(database.schemas.withLock({ $0 }))")
            for schema in database.schemas.withLock({ $0 }) {
                _ = try? await database.client.query("DROP SCHEMA IF EXISTS \(unescaped: schema) CASCADE")
            }
            logger.debug("test database \(trace): dropped")
            group.cancelAll()
            try await group.waitForAll()
            logger.debug("test database \(trace): client stopped")
            if let failure { throw failure }
        }
    }

    /// A fresh schema name, dropped when the test ends.
    func makeSchema() -> String {
        let schema = "sessionkit_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        schemas.withLock { $0.append(schema) }
        return schema
    }

    /// A store on the shared client, in a fresh schema.
    func makeStore(
        clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        configure: (inout PostgresSessionStoreConfiguration) -> Void = { _ in }
    ) -> PostgresSessionStore {
        var configuration = PostgresSessionStoreConfiguration(schema: makeSchema(), runsClient: false)
        // Patient: the whole suite runs in parallel on two cores, and the contract's 200 concurrent
        // writes to one row queue for the shared client's few connections. The tests of the timeout
        // itself set their own.
        configuration.connectionTimeout = TestTimeScale.limit(.seconds(30))
        configure(&configuration)
        return PostgresSessionStore(client: client, configuration: configuration, clock: clock)
    }

    /// Whether the client's connections use TLS, as the server sees them.
    func usesTLS() async throws -> Bool {
        let rows = try await client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").collect()
        return try rows.first?.decode(Bool.self) ?? false
    }
}
