import Foundation
import Logging
import NIOCore
import SessionKit
import SessionKitPostgres
import SessionKitRedis
import SessionKitSQLite
import SessionKitTesting
import SessionKitVapor
import Testing
import Vapor
import VaporTesting

/// The stores the Vapor tests run against: memory and SQLite always, PostgreSQL and Redis when
/// their URLs are set (`eval "$(scripts/postgres-server env)"` and `scripts/redis-server env`).
enum VaporStoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, sqlite, postgres, redis

    var testDescription: String { rawValue }

    static let postgresURL = ProcessInfo.processInfo.environment["SESSIONKIT_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let redisURL = ProcessInfo.processInfo.environment["SESSIONKIT_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// The kinds that can run here; the others are named once, with why they are skipped.
    static let available: [VaporStoreKind] = {
        var kinds: [VaporStoreKind] = [.memory, .sqlite]
        if postgresURL != nil { kinds.append(.postgres) } else {
            print("SessionKitVaporTests: PostgreSQL cases skipped: SESSIONKIT_POSTGRES_URL is not set (eval \"$(scripts/postgres-server start)\" and export it)")
        }
        if redisURL != nil { kinds.append(.redis) } else {
            print("SessionKitVaporTests: Redis cases skipped: SESSIONKIT_REDIS_URL is not set (eval \"$(scripts/redis-server start)\" and export it)")
        }
        return kinds
    }()

    static let quiet: Logger = {
        var logger = Logger(label: "SessionKitVaporTests")
        logger.logLevel = .critical
        return logger
    }()

    /// A new store of this kind, and what to remove afterwards (SQLite's directory).
    func makeStore(clock: TestClock) throws -> (store: any SessionStore, directory: URL?) {
        switch self {
        case .memory:
            return (MemorySessionStore(clock: clock.function), nil)
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skv-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return (SQLiteSessionStore(path: directory.appendingPathComponent("s.sqlite").path, clock: clock.function), directory)
        case .postgres:
            var url = try PostgresConnectionURL(try #require(Self.postgresURL))
            // Patient, as the connection timeout: every test's new store migrates this one schema on
            // first use, one at a time under the migration's lock, and under a sanitizer with the
            // suite running in parallel on two cores a store's first write waited past the default 5 s
            // statement timeout (SQLSTATE 57014, a 503; `scripts/test --sanitize thread`, 2026-12-05).
            url.statementTimeout = TestTimeScale.limit(.seconds(30))
            let store = try PostgresSessionStore(
                url: url, configuration: .init(schema: "sessionkit_vapor_tests", connectionTimeout: TestTimeScale.limit(.seconds(30))), clock: clock.function, logger: Self.quiet
            )
            return (store, nil)
        case .redis:
            var configuration = try RedisSessionStoreConfiguration(url: try #require(Self.redisURL), keyPrefix: "sessionkit-vapor-tests")
            configuration.connectTimeout = TestTimeScale.limit(configuration.connectTimeout)   // patient, as the PostgreSQL store
            configuration.commandTimeout = TestTimeScale.limit(configuration.commandTimeout)
            return (RedisSessionStore(configuration: configuration, clock: clock.function, logger: Self.quiet), nil)
        }
    }
}

/// Runs `body` with an app whose store runs under Vapor's lifecycle (``SessionKitStoreLifecycle``),
/// and the native middleware on it.
func withServerApp<T>(
    _ kind: VaporStoreKind,
    clock: TestClock = TestClock(),
    configuration: SessionConfiguration = SessionConfiguration(),
    wrap: (any SessionStore) -> any SessionStore = { $0 },
    _ body: (Application, any SessionStore) async throws -> T
) async throws -> T {
    let (base, directory) = try kind.makeStore(clock: clock)
    defer { if let directory { try? FileManager.default.removeItem(at: directory) } }
    let store = wrap(base)
    return try await withTestApp({ app in
        app.lifecycle.use(SessionKitStoreLifecycle(store: base))
        app.middleware.use(try SessionKitVaporMiddleware(store: store, configuration: configuration, clock: clock.function))
        Fixture.routes(app)
        app.get("sessions") { req in
            let userID = try req.query.get(String.self, at: "user")
            guard let index = store as? any SessionUserIndex else { throw Abort(.notImplemented) }
            return "\(try await index.sessions(ofUser: userID).count)"
        }
    }, { app in try await body(app, store) })
}

@Suite("SessionKitVaporMiddleware, server-side sessions")
struct VaporServerSessionTests {
    @Test(arguments: VaporStoreKind.available)
    func tutorialFlowOnEveryStore(kind: VaporStoreKind) async throws {
        try await withServerApp(kind) { app, store in
            let browser = Browser(app)
            #expect(try await browser.get("get").setCookies.isEmpty)
            let set = try await browser.get("set?username=alice")
            let id = try #require(browser.cookie("session"), "no session cookie: \(set.status) \(set.text)")
            #expect(id.count == 43)
            #expect(!(set.setCookies.first ?? "").contains("alice"))
            let sessionID = try #require(KitSessionID(cookieValue: id))
            let stored = try #require(try await store.load(sessionID.storageKey))
            #expect(try stored.values["username"]?.decode(String.self) == "alice")
            #expect(try await browser.get("get").text == "alice")
            #expect(try await browser.get("get").setCookies.isEmpty, "a read-only request writes no cookie")
            #expect(try await browser.get("pop").text == "alice")
            #expect(try await store.load(sessionID.storageKey) == nil, "an emptied session is deleted")

            try await browser.get("flash?message=hi")
            #expect(try await browser.get("flashes").text == "info:hi")
            #expect(try await browser.get("flashes").text == "")

            try await browser.get("login?user=42")
            let loggedIn = try #require(browser.cookie("session"))
            #expect(try await browser.get("whoami").text == "42")
            if store is any SessionUserIndex {
                #expect(try await browser.get("sessions?user=42").text == "1", "per-user listing")
            }
            try await browser.get("regenerate")
            let regenerated = try #require(browser.cookie("session"))
            #expect(regenerated != loggedIn)
            #expect(try await send(app, "whoami", cookie: "session=\(loggedIn)").text == "", "the old ID is dead after regenerateID()")
            #expect(try await browser.get("whoami").text == "42")

            let logout = try await browser.get("logout")
            #expect(logout.setCookies.first?.contains("Max-Age=0") == true)
            let regeneratedID = try #require(KitSessionID(cookieValue: regenerated))
            #expect(try await store.load(regeneratedID.storageKey) == nil, "logout deletes the record")
            #expect(try await send(app, "whoami", cookie: "session=\(regenerated)").text == "")
        }
    }

    @Test(arguments: VaporStoreKind.available)
    func revokingAUsersSessionsLogsOutEveryDevice(kind: VaporStoreKind) async throws {
        try await withServerApp(kind) { app, store in
            guard let index = store as? any SessionUserIndex else { return }
            let user = "user-\(UUID().uuidString)"
            let phone = Browser(app)
            let laptop = Browser(app)
            try await phone.get("login?user=\(user)")
            try await laptop.get("login?user=\(user)")
            #expect(try await laptop.get("sessions?user=\(user)").text == "2")
            #expect(try await index.revokeSessions(ofUser: user) == 2)
            #expect(try await phone.get("whoami").text == "")
            #expect(try await laptop.get("whoami").text == "")
        }
    }

    @Test func malformedAndUnknownIDsAreNeverAdoptedNorWritten() async throws {
        let base = MemorySessionStore()
        let store = FaultInjectingSessionStore(base)
        try await withTestApp({ app in
            app.middleware.use(try SessionKitVaporMiddleware(store: store))
            Fixture.routes(app)
        }) { app in
            for value in ["x", String(repeating: "A", count: 43), KitSessionID().cookieValue, String(repeating: "é", count: 43)] {
                store.resetCounts()
                let response = try await send(app, "get", cookie: "session=\(value)")
                #expect(response.status == .ok)
                #expect(response.setCookies.isEmpty)
                #expect(store.writeCount == 0)
            }
            let unknown = KitSessionID().cookieValue
            let set = try await send(app, "set", cookie: "session=\(unknown)")
            #expect(set.cookiePair("session") != "session=\(unknown)", "an unknown ID gets a new one")
        }
    }

    @Test func signedIDsAreCheckedBeforeAnyStoreAccess() async throws {
        let store = FaultInjectingSessionStore(MemorySessionStore())
        let keys = try KeyRing(current: Fixture.secret)
        try await withTestApp({ app in
            app.middleware.use(try SessionKitVaporMiddleware(store: store, signingKeys: keys))
            Fixture.routes(app)
        }) { app in
            let cookie = try #require(try await send(app, "set?username=alice").cookiePair("session"))
            let value = cookie.dropFirst("session=".count)
            #expect(value.count > KitSessionID.cookieValueLength, "the ID carries its MAC")
            #expect(try await send(app, "get", cookie: cookie).text == "alice")
            // The bare ID, or the ID with another MAC, never reaches the store.
            let bare = String(value.prefix(KitSessionID.cookieValueLength))
            var forged = Array(value.utf8)
            forged[forged.count - 2] = forged[forged.count - 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            for attempt in [bare, String(decoding: forged, as: UTF8.self)] {
                store.resetCounts()
                let response = try await send(app, "get", cookie: "session=\(attempt)")
                #expect(response.text == "")
                #expect(store.totalCount == 0, "no store access")
            }
        }
    }

    @Test func storeOutageAnswers503AndDoesNotLogTheUserOut() async throws {
        let store = FaultInjectingSessionStore(MemorySessionStore())
        try await withTestApp({ app in
            app.middleware.use(try SessionKitVaporMiddleware(store: store))
            Fixture.routes(app)
        }) { app in
            let cookie = try #require(try await send(app, "login?user=7").cookiePair("session"))
            store.fail([.load])
            let down = try await send(app, "whoami", cookie: cookie)
            #expect(down.status == .serviceUnavailable)
            #expect(down.setCookies.isEmpty, "the user's ID is never rotated or deleted")
            store.heal()
            store.fail([.apply, .create, .delete, .rename, .touch])
            let writeDown = try await send(app, "set", cookie: cookie)
            #expect(writeDown.status == .serviceUnavailable)
            #expect(writeDown.setCookies.isEmpty)
            store.heal()
            #expect(try await send(app, "whoami", cookie: cookie).text == "7", "still logged in once the store is back")
        }
    }

    /// 200 concurrent cart additions to one session over a real running server: every one counts.
    @Test(arguments: VaporStoreKind.available)
    func concurrentCartAdditionsAllCountOverRealHTTP(kind: VaporStoreKind) async throws {
        try await withServerApp(kind) { app, _ in
            // The 199 requests queue for the client's few connections to the server; a request that
            // waited past the client's connect timeout (10 s by default) failed with
            // getConnectionFromPoolTimeout under a sanitizer (`scripts/test --sanitize thread`,
            // 2026-12-05). Patient: what this test proves is that every addition counts.
            app.http.client.configuration.timeout.connect = .seconds(120)
            try await app.asyncBoot()
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = try #require(app.http.server.shared.localAddress?.port)
            do {
                let base = "http://127.0.0.1:\(port)"
                let first = try await app.client.get(URI(string: "\(base)/cart/add"))
                let cookie = try #require(
                    first.headers[.setCookie].first.map { String($0.prefix { $0 != ";" }) },
                    "the first addition set no cookie: \(first.status) \(first.body.map { String(buffer: $0) } ?? "")"
                )
                let requests = 199
                try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                    for _ in 0..<requests {
                        group.addTask {
                            try await app.client.get(URI(string: "\(base)/cart/add"), headers: ["Cookie": cookie]).status
                        }
                    }
                    for try await status in group { #expect(status == .ok) }
                }
                let cart = try await app.client.get(URI(string: "\(base)/cart"), headers: ["Cookie": cookie])
                #expect(cart.body.map { String(buffer: $0) } == "apple=\(requests + 1)")
            } catch {
                await app.server.shutdown()
                throw error
            }
            await app.server.shutdown()
        }
    }

    @Test func lifecycleRunsCleanupAndClosesTheStoreOnShutdown() async throws {
        let clock = TestClock()
        let memory = MemorySessionStore(configuration: .init(cleanupInterval: .milliseconds(20)), clock: clock.function)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sqlite = SQLiteSessionStore(path: directory.appendingPathComponent("s.sqlite").path, clock: clock.function)
        try await withTestApp({ app in
            app.lifecycle.use(SessionKitStoreLifecycle(store: memory))
            app.lifecycle.use(SessionKitStoreLifecycle(store: sqlite))
            app.middleware.use(try SessionKitVaporMiddleware(store: memory, clock: clock.function))
            Fixture.routes(app)
        }) { app in
            _ = try app.testing()   // boots the application
            _ = try await send(app, "set")
            #expect(memory.count == 1)
            clock.advance(3 * 24 * 3600)
            // The store's own cleanup runs under the lifecycle and removes the expired session.
            var waited = 0
            while memory.count > 0, waited < 500 {
                try await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            #expect(memory.count == 0)
            _ = try await sqlite.load(KitSessionID().storageKey)
        }
        // Shut down: the SQLite store is closed.
        await #expect(throws: SessionStoreError.self) { _ = try await sqlite.load(KitSessionID().storageKey) }
    }
}
