import Foundation
public import Logging
public import SessionKit
import SessionKitPostgres
import SessionKitRedis
import SessionKitSQLite
public import ServiceLifecycle

/// Opens the store that ``DemoOptions/storage`` names for both demo servers: nothing for cookie
/// sessions (and in Flask-compatible mode), else a memory, SQLite (migrated), Redis or PostgreSQL
/// store. Each store is also the `Service` that runs its cleanup and closes it; the Hummingbird demo
/// runs it in its service group, the Vapor demo under Vapor's lifecycle.
///
/// ```swift
/// let store = try await DemoServerStore.open(options: options, logger: logger)   // nil: cookies
/// ```
public enum DemoServerStore {
    /// The environment variable a store's password may come from when its URL has none.
    public static let passwordVariable = "SESSIONKIT_STORE_PASSWORD"

    /// The store for `options`, or nil when sessions live in cookies. Throws the stores' errors
    /// (which never contain a password) for a URL or file it cannot use.
    public static func open(
        options: DemoOptions, logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> (any SessionUserIndex & Service)? {
        switch options.flaskCompatible ? .cookie : options.storage {
        case .cookie:
            return nil
        case .memory:
            return MemorySessionStore(clock: options.clock)
        case .sqlite(let path):
            let sqlite = SQLiteSessionStore(path: path, clock: options.clock)
            try await sqlite.migrate()
            return sqlite
        case .redis(let url):
            var configuration = try RedisSessionStoreConfiguration(url: url)
            if configuration.password == nil { configuration.password = environment[passwordVariable] }
            return RedisSessionStore(configuration: configuration, clock: options.clock, logger: logger)
        case .postgres(let url):
            let parsed = try PostgresConnectionURL(url, passwordEnvironmentVariable: passwordVariable, environment: environment)
            return try PostgresSessionStore(url: parsed, clock: options.clock, logger: logger)
        }
    }
}
