// The HTTP benchmark's second peer (Benchmarks/http/run): a Vapor 4 application with Vapor's own
// sessions, serving the same routes as SessionKitHTTPBench:
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
//
// Vapor keeps session data as strings, so the counter is a string here.
//
// Usage: SessionKitVaporBench --variant NAME --port N
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Vapor

func argument(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

guard let variant = argument("--variant"), let port = argument("--port").flatMap(Int.init) else {
    FileHandle.standardError.write(Data("usage: SessionKitVaporBench --variant vapor|vapor-sqlite|vapor-postgres --port N\n".utf8))
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
        let cleanUp = try await configureSessions(app)
        defer { cleanUp() }
        app.get("bare") { _ in "ok" }
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
