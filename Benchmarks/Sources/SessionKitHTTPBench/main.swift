// The server of the HTTP benchmark (Benchmarks/http/run): one Hummingbird application serving
//
//   GET /bare   no session (no session middleware on this route)
//   GET /login  creates a session {user: "user-42", counter: 0}; the benchmark takes its cookie
//   GET /read   reads the small value `user` from the session
//   GET /write  increments the counter in the session
//
// with sessions of one variant:
//
//   bare       no session library (/read and /write answer like /bare)
//   encrypted  SessionKit, AES-256-GCM cookies
//   signed     SessionKit, HMAC-SHA256 cookies
//   flask      SessionKit, Flask 3.1's cookie format
//   memory     SessionKit, MemorySessionStore (session ID in the cookie)
//   sqlite     SessionKit, SQLiteSessionStore (a new file in a temporary directory)
//   postgres   SessionKit, PostgresSessionStore on the server in SESSIONKIT_POSTGRES_URL
//              (postgres://user[:password]@host[:port]/database, as scripts/postgres-server start
//              prints; schema sessionkit_http_bench), run as a service with the app
//   redis      SessionKit, RedisSessionStore on the server in SESSIONKIT_REDIS_URL (as
//              scripts/redis-server start prints; key prefix sessionkit-http-bench), run as a service
//   hbauth     hummingbird-auth 2.5's SessionMiddleware with Hummingbird's MemoryPersistDriver (the peer)
//
// Any variant as NAME@loop (say postgres@loop) runs with NIO's event loops as Swift concurrency's
// global executor (below).
//
// Usage: SessionKitHTTPBench --variant NAME --port N
//        SessionKitHTTPBench --variant NAME --in-process ROUTE --requests N
//        SessionKitHTTPBench --variant memory|sqlite|postgres|redis --store-operations read|write [--operations N] [--concurrency C]
//
// The second form starts no server: it sends GET /login, then N requests of ROUTE, straight to the
// router's responder in one task (what Hummingbird runs for a request, without the sockets), for
// `valgrind --tool=callgrind` (Benchmarks/http/instructions). The third measures the store alone
// (StoreOperations.swift).
import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import NIOEmbedded
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import SessionKit
import SessionKitHummingbird
import SessionKitPostgres
import SessionKitRedis
import SessionKitSQLite

func argument(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

let inProcess: (route: String, requests: Int)? = argument("--in-process").map { ($0, argument("--requests").flatMap(Int.init) ?? 1000) }
guard let requestedVariant = argument("--variant"),
      let port = argument("--port").flatMap(Int.init) ?? (inProcess != nil || argument("--store-operations") != nil ? 0 : nil) else {
    FileHandle.standardError.write(Data("""
        usage: SessionKitHTTPBench --variant bare|encrypted|signed|flask|memory|sqlite|postgres|redis|hbauth --port N
               SessionKitHTTPBench --variant NAME --in-process bare|read|write --requests N
               SessionKitHTTPBench --variant memory|sqlite|postgres|redis --store-operations read|write [--operations N] [--concurrency C]

        """.utf8))
    exit(2)
}

// A variant named NAME@loop is NAME with Swift concurrency's jobs run on NIO's event loops (the
// singleton group that Hummingbird, postgres-nio and the Redis store use), so a request's task, its
// socket and its database connection share threads instead of hopping between the cooperative pool
// and the loops (NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor).
let onEventLoops = requestedVariant.hasSuffix("@loop")
let variant = onEventLoops ? String(requestedVariant.dropLast("@loop".count)) : requestedVariant

let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    return logger
}()
let secret = SessionSecret(text: String(repeating: "http-benchmark-secret-", count: 2))
let configuration = ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: nil)

let sessionConfiguration: SessionConfiguration = {
    var configuration = SessionConfiguration()
    configuration.cookie.secure = false // plain http on loopback
    return configuration
}()

// MARK: - SessionKit

func sessionKitRouter(_ middleware: SessionKitMiddleware<BasicSessionKitRequestContext>) -> Router<BasicSessionKitRequestContext> {
    let router = Router(context: BasicSessionKitRequestContext.self)
    router.get("/bare") { _, _ in "ok" }
    let sessions = router.group().add(middleware: middleware)
    sessions.get("/login") { _, context in
        context.session["user"] = "user-42"
        context.session["counter"] = 0
        return "ok"
    }
    sessions.get("/read") { _, context in
        context.session["user", as: String.self] ?? "anonymous"
    }
    sessions.get("/write") { _, context in
        let counter = (context.session["counter", as: Int.self] ?? 0) + 1
        context.session["counter"] = counter
        return String(counter)
    }
    return router
}

// MARK: - hummingbird-auth (the peer)

struct PeerSession: Codable, Sendable {
    var user: String
    var counter: Int
}

typealias PeerContext = HummingbirdAuth.BasicSessionRequestContext<PeerSession, String>

func peerRouter() -> Router<PeerContext> {
    let router = Router(context: PeerContext.self)
    router.get("/bare") { _, _ in "ok" }
    let persist = MemoryPersistDriver()
    let sessions = router.group().add(middleware: HummingbirdAuth.SessionMiddleware(storage: persist, sessionCookie: "session"))
    sessions.get("/login") { _, context in
        context.sessions.createSession(PeerSession(user: "user-42", counter: 0))
        return "ok"
    }
    sessions.get("/read") { _, context in
        context.sessions.session?.user ?? "anonymous"
    }
    sessions.get("/write") { _, context in
        let counter = context.sessions.withLockedSession { data -> Int in
            data?.counter += 1
            return data?.counter ?? 0
        }
        return String(counter)
    }
    return router
}

// MARK: - Bare

func bareRouter() -> Router<BasicRequestContext> {
    let router = Router()
    router.get("/bare") { _, _ in "ok" }
    router.get("/login") { _, _ in "ok" }
    router.get("/read") { _, _ in "user-42" }
    router.get("/write") { _, _ in "1" }
    return router
}

// MARK: - Main

/// Serves `router` until SIGTERM/SIGINT; `services` (a store) start before the server and stop after it.
func run<Context: InitializableFromSource<ApplicationRequestContextSource> & RequestContext>(_ router: Router<Context>, services: [any Service] = []) async throws {
    if let inProcess {
        // The services (a store's connection pool) run beside the requests, and are cancelled after.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services {
                group.addTask { try await service.run() }
            }
            try await respondInProcess(router, route: inProcess.route, requests: inProcess.requests)
            group.cancelAll()
        }
        return
    }
    let app = Application(router: router, configuration: configuration, services: services, logger: logger)
    try await app.runService()
}

/// GET /login, then `requests` GETs of `route` with its cookie, through the router's responder with
/// a new context each (as the server makes one per request); every answer must be 200.
func respondInProcess<Context: InitializableFromSource<ApplicationRequestContextSource> & RequestContext>(
    _ router: Router<Context>, route: String, requests: Int
) async throws {
    let responder = router.buildResponder()
    let channel = EmbeddedChannel()
    // The head is made once: what is counted is the router, the middleware and the handler, not
    // the making of a request (HTTPFields' cookie setter alone splits the header at every "; ").
    func head(_ path: String, cookie: String?) -> HTTPRequest {
        var fields = HTTPFields()
        if let cookie { fields.append(.init(name: .cookie, value: cookie)) }
        return HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1", path: path, headerFields: fields)
    }
    func get(_ head: HTTPRequest) async throws -> Response {
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer()))
        let response = try await responder.respond(to: request, context: Context(source: .init(channel: channel, logger: logger)))
        guard response.status == .ok else {
            FileHandle.standardError.write(Data("\(head.path ?? "") answered \(response.status)\n".utf8))
            exit(1)
        }
        return response
    }
    let cookie = try await get(head("/login", cookie: nil)).headers[values: .setCookie].first.map { String($0.prefix { $0 != ";" }) }
    let request = head("/\(route)", cookie: cookie)
    for _ in 0..<requests {
        _ = try await get(request)
    }
}

func environment(_ name: String) -> String {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
        FileHandle.standardError.write(Data("variant \(variant) needs \(name) (Benchmarks/http/run --with-servers starts the servers)\n".utf8))
        exit(2)
    }
    return value
}

/// The client configuration for `postgres://user[:password]@host[:port]/database`, as the tests read it.
func postgresClientConfiguration(_ url: String) -> PostgresClient.Configuration {
    guard let components = URLComponents(string: url), let host = components.host, let user = components.user else {
        FileHandle.standardError.write(Data("SESSIONKIT_POSTGRES_URL must look like postgres://user@host:port/database\n".utf8))
        exit(2)
    }
    let database = String(components.path.drop { $0 == "/" })
    var configuration = PostgresClient.Configuration(
        host: host, port: components.port ?? 5432, username: user, password: components.password,
        database: database.isEmpty ? nil : database, tls: .disable
    )
    // The pool as ConnectingToPostgreSQL recommends (`pool_size=8`, as pgbench's 8 clients): 8
    // connections kept open, so no idle timer is armed each time one goes back to the pool.
    // SESSIONKIT_BENCH_PG_POOL_SIZE=0: postgres-nio's defaults (up to 20, idle ones closed after 60 s);
    // SESSIONKIT_BENCH_PG_KEEPALIVE=0: without the pool's keep-alive (an experiment).
    let environment = ProcessInfo.processInfo.environment
    let poolSize = environment["SESSIONKIT_BENCH_PG_POOL_SIZE"].flatMap(Int.init) ?? 8
    if poolSize > 0 {
        configuration.options.minimumConnections = poolSize
        configuration.options.maximumConnections = poolSize
    }
    if environment["SESSIONKIT_BENCH_PG_KEEPALIVE"] == "0" { configuration.options.keepAliveBehavior = nil }
    return configuration
}

/// Serves (or drives in process) the routes of `variant`.
func serve() async throws {
    if storeOperations != nil, !["memory", "sqlite", "postgres", "redis"].contains(variant) {
        FileHandle.standardError.write(Data("--store-operations needs a store: memory, sqlite, postgres or redis\n".utf8))
        exit(2)
    }
    switch variant {
    case "bare":
        try await run(bareRouter())
    case "hbauth":
        try await run(peerRouter())
    case "encrypted", "signed", "flask":
        let format: CookieSessionFormat = variant == "encrypted" ? .encrypted : variant == "signed" ? .signed : .flask
        try await run(sessionKitRouter(try SessionKitMiddleware(secret: secret, format: format, configuration: sessionConfiguration, logger: logger)))
    case "memory":
        let store = MemorySessionStore(logger: logger)
        if storeOperations != nil { return try await measureStoreOperations(store, services: []) }
        try await run(sessionKitRouter(SessionKitMiddleware(store: store, configuration: sessionConfiguration, logger: logger)))
    case "sqlite":
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-http-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = SQLiteSessionStore(configuration: .init(path: directory.appendingPathComponent("sessions.sqlite").path), logger: logger)
        try await store.migrate()
        if storeOperations != nil {
            try await measureStoreOperations(store, services: [])
            return try await store.close()
        }
        try await run(sessionKitRouter(SessionKitMiddleware(store: store, configuration: sessionConfiguration, logger: logger)))
        try await store.close()
    case "postgres":
        // A store made from the URL, as the demo makes it: the request path on SessionKit's own
        // connections (`pool_size`, the URL's default), the rest on a PostgresClient.
        // SESSIONKIT_BENCH_PG_CLIENT=1: a store on a PostgresClient alone (every statement leased
        // from its pool); SESSIONKIT_BENCH_PG_UNPREPARED=1: the same statements unnamed.
        let settings = ProcessInfo.processInfo.environment
        let prepared = settings["SESSIONKIT_BENCH_PG_UNPREPARED"] != "1"
        let configuration = PostgresSessionStoreConfiguration(schema: "sessionkit_http_bench", usesPreparedStatements: prepared)
        let store: PostgresSessionStore
        if settings["SESSIONKIT_BENCH_PG_CLIENT"] == "1" {
            let client = PostgresClient(configuration: postgresClientConfiguration(environment("SESSIONKIT_POSTGRES_URL")), backgroundLogger: logger)
            store = PostgresSessionStore(client: client, configuration: configuration, logger: logger)
        } else {
            var url = try PostgresConnectionURL(environment("SESSIONKIT_POSTGRES_URL"))
            url.sslMode = .disable
            // SESSIONKIT_BENCH_PG_POOL_SIZE=N: N connections instead of the URL's default.
            if let size = settings["SESSIONKIT_BENCH_PG_POOL_SIZE"].flatMap(Int.init), size > 0 { url.poolSize = size }
            store = try PostgresSessionStore(url: url, configuration: configuration, logger: logger)
        }
        if storeOperations != nil { return try await measureStoreOperations(store, services: [store]) }
        try await run(sessionKitRouter(SessionKitMiddleware(store: store, configuration: sessionConfiguration, logger: logger)), services: [store])
    case "redis":
        var redisConfiguration = try RedisSessionStoreConfiguration(url: environment("SESSIONKIT_REDIS_URL"), keyPrefix: "sessionkit-http-bench")
        // SESSIONKIT_BENCH_REDIS_POOL_SIZE=N: N connections instead of the default.
        if let size = ProcessInfo.processInfo.environment["SESSIONKIT_BENCH_REDIS_POOL_SIZE"].flatMap(Int.init), size > 0 { redisConfiguration.poolSize = size }
        let store = RedisSessionStore(configuration: redisConfiguration, logger: logger)
        try await store.ping()
        if storeOperations != nil { return try await measureStoreOperations(store, services: [store]) }
        try await run(sessionKitRouter(SessionKitMiddleware(store: store, configuration: sessionConfiguration, logger: logger)), services: [store])
    default:
        FileHandle.standardError.write(Data("unknown variant \(variant)\n".utf8))
        exit(2)
    }
}

if onEventLoops {
    guard NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() else {
        FileHandle.standardError.write(Data("could not install NIO's event loops as the global executor\n".utf8))
        exit(2)
    }
}

// Not top-level `await`: that would make the main thread wait in `dispatch_main`, which valgrind
// 3.19 cannot run (it crashes in `_dispatch_sig_thread`). The main thread just waits here instead.
let finished = DispatchSemaphore(value: 0)
Task.detached {
    do {
        try await serve()
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        exit(1)
    }
    finished.signal()
}
finished.wait()
