// The HTTP benchmark's second peer (Benchmarks/http/run): a Vapor 4 application with Vapor's own
// sessions, or with SessionKit's (SessionKitVapor) on the same kind of store, serving the same routes
// as SessionKitHTTPBench:
//
//   GET /bare   no session (no session middleware on this route)
//   GET /login  creates a session {user: "user-42", counter: "0"}; the benchmark takes its cookie
//   GET /read   reads `user` from the session
//   GET /write  increments the counter in the session
//
// with sessions of one variant:
//
//   vapor           Vapor's SessionsMiddleware, memory sessions (`.memory`)
//   vapor-sqlite    Vapor's SessionsMiddleware, Fluent sessions on SQLite (a new file in a
//                   temporary directory)
//   vapor-postgres  Vapor's SessionsMiddleware, Fluent sessions on the PostgreSQL server in
//                   SESSIONKIT_POSTGRES_URL (postgres://user[:password]@host[:port]/database; its
//                   table `_fluent_sessions` is dropped and created again at start-up)
//   vapor-sk-encrypted  SessionKitVaporMiddleware, AES-256-GCM cookies (Vapor has no cookie sessions)
//   vapor-sk-memory     SessionKitVaporMiddleware, MemorySessionStore
//   vapor-sk-sqlite     SessionKitVaporMiddleware, SQLiteSessionStore (a new file in a temporary directory)
//   vapor-sk-postgres   SessionKitVaporMiddleware, PostgresSessionStore on SESSIONKIT_POSTGRES_URL
//                       (schema sessionkit_vapor_bench)
//   vapor-sk-redis      SessionKitVaporMiddleware, RedisSessionStore on SESSIONKIT_REDIS_URL
//                       (key prefix sessionkit-vapor-bench)
// The vapor-sk-* stores run under Vapor's lifecycle (SessionKitStoreLifecycle).
//
// Vapor keeps session data as strings, so its counter is a string; SessionKit's is an Int, as in
// SessionKitHTTPBench.
//
// Usage: SessionKitVaporBench --variant NAME --port N
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Logging
import SessionKit
import SessionKitPostgres
import SessionKitRedis
import SessionKitSQLite
import SessionKitVapor
import ServiceLifecycle
import Vapor

func argument(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

guard let variant = argument("--variant"), let port = argument("--port").flatMap(Int.init) else {
    FileHandle.standardError.write(Data("usage: SessionKitVaporBench --variant vapor|vapor-sqlite|vapor-postgres|vapor-sk-encrypted|vapor-sk-memory|vapor-sk-sqlite|vapor-sk-postgres|vapor-sk-redis --port N\n".utf8))
    exit(2)
}

/// The PostgreSQL configuration for `postgres://user[:password]@host[:port]/database`.
func postgresConfiguration(_ url: String) -> SQLPostgresConfiguration {
    guard let components = URLComponents(string: url), let host = components.host, let user = components.user else {
        FileHandle.standardError.write(Data("SESSIONKIT_POSTGRES_URL must look like postgres://user@host:port/database\n".utf8))
        exit(2)
    }
    let database = String(components.path.drop { $0 == "/" })
    return SQLPostgresConfiguration(
        hostname: host, port: components.port ?? 5432, username: user, password: components.password,
        database: database.isEmpty ? nil : database, tls: .disable
    )
}

func environment(_ name: String) -> String {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
        FileHandle.standardError.write(Data("variant \(variant) needs \(name)\n".utf8))
        exit(2)
    }
    return value
}

/// SessionKit's middleware for a vapor-sk-* variant, its store (if any) under Vapor's lifecycle.
func sessionKitMiddleware(_ app: Application) async throws -> SessionKitVaporMiddleware {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    var configuration = SessionConfiguration()
    configuration.cookie.secure = false // plain http on loopback
    let store: (any SessionStore & Service)
    switch variant {
    case "vapor-sk-encrypted":
        let secret = SessionSecret(text: String(repeating: "http-benchmark-secret-", count: 2))
        return try SessionKitVaporMiddleware(secret: secret, format: .encrypted, configuration: configuration, logger: logger)
    case "vapor-sk-memory":
        store = MemorySessionStore(logger: logger)
    case "vapor-sk-sqlite":
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-vapor-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sqlite = SQLiteSessionStore(path: directory.appendingPathComponent("sessions.sqlite").path)
        try await sqlite.migrate()
        store = sqlite
    case "vapor-sk-postgres":
        let url = try PostgresConnectionURL(environment("SESSIONKIT_POSTGRES_URL"))
        store = try PostgresSessionStore(url: url, configuration: .init(schema: "sessionkit_vapor_bench"), logger: logger)
    case "vapor-sk-redis":
        let redis = RedisSessionStore(configuration: try .init(url: environment("SESSIONKIT_REDIS_URL"), keyPrefix: "sessionkit-vapor-bench"), logger: logger)
        try await redis.ping()
        store = redis
    default:
        FileHandle.standardError.write(Data("unknown variant \(variant)\n".utf8))
        exit(2)
    }
    app.lifecycle.use(SessionKitStoreLifecycle(store: store))
    return try SessionKitVaporMiddleware(store: store, configuration: configuration, logger: logger)
}

/// Sets up `app`'s sessions for the variant; returns what to clean up after.
func configureSessions(_ app: Application) async throws -> (@Sendable () -> Void) {
    switch variant {
    case "vapor":
        app.sessions.use(.memory)
        return {}
    case "vapor-sqlite":
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-vapor-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        app.databases.use(.sqlite(.file(directory.appendingPathComponent("sessions.sqlite").path)), as: .sqlite)
        app.sessions.use(.fluent)
        app.migrations.add(SessionRecord.migration)
        try await app.autoMigrate()
        return { try? FileManager.default.removeItem(at: directory) }
    case "vapor-postgres":
        guard let url = ProcessInfo.processInfo.environment["SESSIONKIT_POSTGRES_URL"], !url.isEmpty else {
            FileHandle.standardError.write(Data("variant vapor-postgres needs SESSIONKIT_POSTGRES_URL\n".utf8))
            exit(2)
        }
        app.databases.use(.postgres(configuration: postgresConfiguration(url)), as: .psql)
        app.sessions.use(.fluent)
        app.migrations.add(SessionRecord.migration)
        // A fresh table each run, as the other variants start empty.
        try await app.autoRevert()
        try await app.autoMigrate()
        return {}
    default:
        FileHandle.standardError.write(Data("unknown variant \(variant)\n".utf8))
        exit(2)
    }
}

func serve() async throws {
    // Vapor reads its command from the arguments: give it none but the program's name.
    let app = try await Application.make(Environment(name: "production", arguments: ["SessionKitVaporBench"]))
    app.logger.logLevel = .error
    app.http.server.configuration.hostname = "127.0.0.1"
    app.http.server.configuration.port = port
    do {
        app.get("bare") { _ in "ok" }
        if variant.hasPrefix("vapor-sk-") {
            let sessions = app.grouped(try await sessionKitMiddleware(app))
            sessions.get("login") { request -> String in
                request.sessionKit["user"] = "user-42"
                request.sessionKit["counter"] = 0
                return "ok"
            }
            sessions.get("read") { request -> String in
                request.sessionKit["user", as: String.self] ?? "anonymous"
            }
            sessions.get("write") { request -> String in
                let counter = (request.sessionKit["counter", as: Int.self] ?? 0) + 1
                request.sessionKit["counter"] = counter
                return String(counter)
            }
            try await app.execute()
            try await app.asyncShutdown()
            return
        }
        let cleanUp = try await configureSessions(app)
        defer { cleanUp() }
        let sessions = app.grouped(app.sessions.middleware)
        sessions.get("login") { request -> String in
            request.session.data["user"] = "user-42"
            request.session.data["counter"] = "0"
            return "ok"
        }
        sessions.get("read") { request -> String in
            request.session.data["user"] ?? "anonymous"
        }
        sessions.get("write") { request -> String in
            let counter = (request.session.data["counter"].flatMap { Int($0) } ?? 0) + 1
            request.session.data["counter"] = String(counter)
            return String(counter)
        }
        try await app.execute()
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
    try await app.asyncShutdown()
}

try await serve()
