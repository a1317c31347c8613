import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SessionKit
import SessionKitPostgres
import SessionKitRedis
import SessionKitSQLite

/// The store a `sessionkit sessions` command works on, opened from `--store`: `sqlite:PATH`,
/// `redis://…`, `rediss://…` or `postgres://…` (a password not in the URL comes from
/// `SESSIONKIT_STORE_PASSWORD`). A networked store's connections run beside the command and
/// close when it ends. A read-only open (`sessions list`) never creates, migrates or writes; a
/// writing command migrates an older SQLite schema first, as the app would at start-up.
///
/// ```swift
/// try await CommandLineStore.with("redis://127.0.0.1:6379/0") { store in
///     print(try await store.index.sessions(ofUser: "alice").count)
/// }
/// ```
struct CommandLineStore {
    enum Kind { case sqlite(SQLiteSessionStore), redis(RedisSessionStore), postgres(PostgresSessionStore) }

    let kind: Kind

    var index: any SessionUserIndex {
        switch kind {
        case .sqlite(let store): return store
        case .redis(let store): return store
        case .postgres(let store): return store
        }
    }

    static let passwordVariable = "SESSIONKIT_STORE_PASSWORD"

    /// Opens `argument` (a SQLite file read-only when `readOnly`), runs `body` with it, and closes
    /// it, also when `body` throws.
    static func with<Result: Sendable>(_ argument: String, readOnly: Bool = false, _ body: @Sendable (CommandLineStore) async throws -> Result) async throws -> Result {
        // Quiet unless asked: the stores' background loggers would print connection attempts.
        let logger = Logger(label: "sessionkit") { _ in SwiftLogNoOpLogHandler() }
        let environment = ProcessInfo.processInfo.environment
        if argument.hasPrefix("sqlite:"), argument.count > 7 {
            let path = String(argument.dropFirst(7))
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no session database at \(path)") }
            // `migrate()` only opens a read-only store (and checks its schema version).
            let sqlite = SQLiteSessionStore(configuration: .init(path: path, readOnly: readOnly))
            do {
                try await sqlite.migrate()
            } catch {
                throw ValidationError("cannot open \(path) as a SessionKit session database: \(error)")
            }
            do {
                let result = try await body(CommandLineStore(kind: .sqlite(sqlite)))
                try await sqlite.close()
                return result
            } catch {
                try? await sqlite.close()
                throw error
            }
        }
        let store: CommandLineStore
        do {
            if argument.hasPrefix("redis://") || argument.hasPrefix("rediss://") {
                var configuration = try RedisSessionStoreConfiguration(url: argument)
                if configuration.password == nil { configuration.password = environment[passwordVariable] }
                configuration.poolSize = 1
                store = CommandLineStore(kind: .redis(RedisSessionStore(configuration: configuration, logger: logger)))
            } else if argument.hasPrefix("postgres://") || argument.hasPrefix("postgresql://") {
                var url = try PostgresConnectionURL(argument, passwordEnvironmentVariable: passwordVariable, environment: environment)
                url.poolSize = 1   // one command at a time
                store = CommandLineStore(kind: .postgres(try PostgresSessionStore(url: url, configuration: .init(connectionTimeout: .seconds(15)), logger: logger)))
            } else {
                throw ValidationError("--store must be sqlite:PATH, redis://…, rediss://… or postgres://… (the memory store lives inside its server process)")
            }
        } catch let error as SessionStoreError {
            throw ValidationError(error.message)   // never contains the password
        }
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            switch store.kind {
            case .postgres(let postgres): group.addTask { await PostgresClientRunner.run(postgres.client, grace: .seconds(5), logger: logger) }
            case .redis, .sqlite: break
            }
            defer {
                group.cancelAll()
                if case .redis(let redis) = store.kind { redis.close() }
            }
            do {
                return try await body(store)
            } catch let error as SessionStoreError {
                throw ValidationError("the store at --store is unavailable: \(error.message)")
            }
        }
    }
}
