import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SessionKit
import SessionKitHummingbird
import SessionKitHummingbirdTesting
import SessionKitSQLite
import SessionKitTesting
import Testing

/// Server-side sessions end to end: strict IDs, no adoption, no writes for reads, deltas,
/// regeneration, revocation races, timeouts and the failure policy.
@Suite("Server-side sessions")
struct ServerSessionTests {
    static func router(store: any SessionStore, signingKeys: KeyRing? = nil, configuration: SessionConfiguration = SessionConfiguration(), clock: TestClock = TestClock()) throws -> Router<BasicSessionKitRequestContext> {
        let router = Router(context: BasicSessionKitRequestContext.self)
        router.add(middleware: try SessionKitMiddleware(store: store, signingKeys: signingKeys, configuration: configuration, clock: clock.function))
        router.get("/set") { request, context in
            context.session["username"] = request.uri.queryParameters.get("username") ?? "alice"
            return "ok"
        }
        router.get("/get") { _, context in context.session["username", as: String.self] ?? "" }
        router.get("/noop") { _, _ in "noop" }
        router.get("/key/{name}") { _, context in
            let name = try context.parameters.require("name")
            context.session[name] = true
            return "ok"
        }
        router.get("/keys") { _, context in context.session.keys.joined(separator: ",") }
        router.get("/slow-set") { _, context in
            _ = context.session["username", as: String.self]
            context.session["late"] = "write"
            return "ok"
        }
        router.get("/login") { _, context in
            context.session.regenerateID()
            context.session["username"] = "alice"
            context.session.isPermanent = true
            return "ok"
        }
        router.get("/logout") { _, context in
            context.session.invalidate()
            return "bye"
        }
        router.get("/clear") { _, context in
            context.session.clear()
            return "cleared"
        }
        return router
    }

    static func sessionCookie(_ response: TestResponse) -> String? {
        response.headers[values: .setCookie].first { $0.hasPrefix("session=") }.map { String($0.prefix { $0 != ";" }) }
    }

    enum StoreKind: String, CaseIterable, Sendable { case memory, sqlite }

    static func withStore<T>(_ kind: StoreKind, clock: TestClock = TestClock(), _ body: (any SessionStore) async throws -> T) async throws -> T {
        switch kind {
        case .memory:
            return try await body(MemorySessionStore(clock: clock.function))
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sk-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = SQLiteSessionStore(path: directory.appendingPathComponent("s.sqlite").path, clock: clock.function)
            try await store.migrate()
            do {
                let result = try await body(store)
                try await store.close()
                return result
            } catch {
                try? await store.close()
                throw error
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func cookieHoldsOnlyAnIDAndTheStoreTheData(kind: StoreKind) async throws {
        let clock = TestClock()
        try await Self.withStore(kind, clock: clock) { store in
            try await Application(router: try Self.router(store: store, clock: clock)).test(.router) { client in
                let browser = SessionTestClient(client, clock: clock.function)
                let set = try await browser.execute(uri: "/set?username=alice")
                let cookie = try #require(Self.sessionCookie(set))
                let id = String(cookie.dropFirst("session=".count))
                #expect(id.count == 43)
                #expect(SessionID(cookieValue: id) != nil)
                #expect(!cookie.contains("alice"))
                #expect(String(buffer: try await browser.execute(uri: "/get").body) == "alice")
                // The store keeps only the hash: the raw ID is nowhere as a key.
                let sessionID = try #require(SessionID(cookieValue: id))
                let stored = try await store.load(sessionID.storageKey)
                #expect(try stored?.values["username"]?.decode(String.self) == "alice")
            }
        }
    }

    @Test func malformedAndUnknownIDsCauseNoStoreWritesAndAreNeverAdopted() async throws {
        let clock = TestClock()
        let store = FaultInjectingSessionStore(MemorySessionStore(clock: clock.function))
        try await Application(router: try Self.router(store: store, clock: clock)).test(.router) { client in
            // Malformed: rejected before any store access.
            for bogus in ["x", String(repeating: "A", count: 44), String(repeating: "A", count: 42) + "B", "../../etc", String(repeating: "+", count: 43)] {
                let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: "session=\(bogus)"])
                #expect(response.status == .ok)
            }
            #expect(store.totalCount == 0)
            // Well-formed but unknown: one load each, zero writes, nothing set.
            for _ in 0..<20 {
                let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: "session=\(SessionID().cookieValue)"])
                #expect(response.headers[values: .setCookie].isEmpty)
            }
            #expect(store.callCount(.load) == 20)
            #expect(store.writeCount == 0)
            // An unknown ID presented with a write gets a fresh ID, never the one presented.
            let presented = SessionID().cookieValue
            let response = try await client.execute(uri: "/set", method: .get, headers: [.cookie: "session=\(presented)"])
            let issued = try #require(Self.sessionCookie(response))
            #expect(issued != "session=\(presented)")
        }
    }

    @Test func aStoredKeyPresentedAsACookieIsRejected() async throws {
        let clock = TestClock()
        let store = MemorySessionStore(clock: clock.function)
        try await Application(router: try Self.router(store: store, clock: clock)).test(.router) { client in
            let set = try await client.execute(uri: "/set", method: .get)
            let cookie = try #require(Self.sessionCookie(set))
            let id = try #require(SessionID(cookieValue: cookie.dropFirst("session=".count)))
            // What a leaked table would give an attacker: the hash, in cookie form.
            let leaked = Data(id.storageKey.bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: "session=\(leaked)"])
            #expect(String(buffer: response.body) == "")
        }
    }

    @Test func readsCauseNoWritesAndTouchIsThrottled() async throws {
        let clock = TestClock()
        let store = FaultInjectingSessionStore(MemorySessionStore(clock: clock.function))
        var configuration = SessionConfiguration()
        configuration.idleTimeout = .seconds(1000)
        try await Application(router: try Self.router(store: store, configuration: configuration, clock: clock)).test(.router) { client in
            let browser = SessionTestClient(client, clock: clock.function)
            try await browser.execute(uri: "/set")
            store.resetCounts()
            for _ in 0..<10 { try await browser.execute(uri: "/get") }
            #expect(store.writeCount == 0, "reads within 10% of the idle window write nothing")
            clock.advance(101)
            try await browser.execute(uri: "/get")
            #expect(store.callCount(.touch) == 1)
            // The idle timeout slides: 900 s later the session is still alive thanks to the touch.
            clock.advance(900)
            #expect(String(buffer: try await browser.execute(uri: "/get").body) == "alice")
            // ...and ends after a full idle window without requests.
            clock.advance(1001)
            #expect(String(buffer: try await browser.execute(uri: "/get").body) == "")
        }
    }

    @Test func absoluteLifetimeEndsEvenAnActiveSession() async throws {
        let clock = TestClock()
        var configuration = SessionConfiguration()
        configuration.idleTimeout = .seconds(1000)
        configuration.absoluteLifetime = .seconds(2500)
        let store = MemorySessionStore(clock: clock.function)
        try await Application(router: try Self.router(store: store, configuration: configuration, clock: clock)).test(.router) { client in
            let browser = SessionTestClient(client, clock: clock.function)
            try await browser.execute(uri: "/set")
            for _ in 0..<4 {
                clock.advance(600)
                try await browser.execute(uri: "/key/x")
            }
            // 2400 s: still alive. 2600 s: past the absolute lifetime however active.
            #expect(String(buffer: try await browser.execute(uri: "/get").body) == "alice")
            clock.advance(200)
            #expect(String(buffer: try await browser.execute(uri: "/get").body) == "")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func regenerateLeavesTheOldIDUnusable(kind: StoreKind) async throws {
        let clock = TestClock()
        try await Self.withStore(kind, clock: clock) { store in
            try await Application(router: try Self.router(store: store, clock: clock)).test(.router) { client in
                let browser = SessionTestClient(client, clock: clock.function)
                let first = try #require(Self.sessionCookie(try await browser.execute(uri: "/set?username=anon")))
                let login = try await browser.execute(uri: "/login")
                let second = try #require(Self.sessionCookie(login))
                #expect(first != second)
                #expect(login.headers[.setCookie]?.contains("Expires=") == true)
                #expect(String(buffer: try await browser.execute(uri: "/get").body) == "alice")
                let old = try await client.execute(uri: "/get", method: .get, headers: [.cookie: first])
                #expect(String(buffer: old.body) == "")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func logoutDeletesTheRecordAndTheCookie(kind: StoreKind) async throws {
        let clock = TestClock()
        try await Self.withStore(kind, clock: clock) { store in
            try await Application(router: try Self.router(store: store, clock: clock)).test(.router) { client in
                let browser = SessionTestClient(client, clock: clock.function)
                let cookie = try #require(Self.sessionCookie(try await browser.execute(uri: "/set")))
                let id = try #require(SessionID(cookieValue: cookie.dropFirst("session=".count)))
                let logout = try await browser.execute(uri: "/logout")
                #expect(logout.headers[.setCookie]?.contains("Max-Age=0") == true)
                #expect(try await store.load(id.storageKey) == nil)
                let replay = try await client.execute(uri: "/get", method: .get, headers: [.cookie: cookie])
                #expect(String(buffer: replay.body) == "")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentRequestsSettingDifferentKeysAllSurviveOverRealHTTP(kind: StoreKind) async throws {
        let clock = TestClock()
        try await Self.withStore(kind, clock: clock) { store in
            try await Application(router: try Self.router(store: store, clock: clock), configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.ahc(.http)) { client in
                let set = try await client.execute(uri: "/set", method: .get)
                let cookie = try #require(Self.sessionCookie(set))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // At most 8 in flight, as many as the client has connections to the server
                    // (AsyncHTTPClient's default per host), so the server sees the same concurrency
                    // as with all 100 sent at once; but none waits in the client's queue, where
                    // under a sanitizer some waited past its connect timeout and failed with
                    // getConnectionFromPoolTimeout (`scripts/test --sanitize address`, 2026-12-05).
                    let inFlight = 8
                    for index in 0..<100 {
                        if index >= inFlight { try await group.next() }
                        group.addTask {
                            let response = try await client.execute(uri: "/key/k\(index)", method: .get, headers: [.cookie: cookie])
                            #expect(response.status == .ok)
                        }
                    }
                    try await group.waitForAll()
                }
                let keys = String(buffer: try await client.execute(uri: "/keys", method: .get, headers: [.cookie: cookie]).body).split(separator: ",")
                #expect(keys.count == 101, "100 keys and the username: nothing lost")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aLogoutRacingASlowUpdateStaysLoggedOutOverRealHTTP(kind: StoreKind) async throws {
        let clock = TestClock()
        try await Self.withStore(kind, clock: clock) { base in
            // The slow request's write is held at a gate until the logout has finished: the race is
            // forced, not hoped for.
            let store = FaultInjectingSessionStore(base)
            try await Application(router: try Self.router(store: store, clock: clock), configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.ahc(.http)) { client in
                let cookie = try #require(Self.sessionCookie(try await client.execute(uri: "/set", method: .get)))
                store.hold([.apply])
                async let slow = client.execute(uri: "/slow-set", method: .get, headers: [.cookie: cookie])
                await store.waitForHeldCalls(1)
                let logout = try await client.execute(uri: "/logout", method: .get, headers: [.cookie: cookie])
                #expect(logout.headers[.setCookie]?.contains("Max-Age=0") == true)
                store.release()
                let slowResponse = try await slow
                // The slow request finds its session gone: it does not re-create it, and sends no
                // cookie at all (a deletion could delete the new ID a concurrent login just set).
                #expect(slowResponse.headers[.setCookie] == nil)
                let after = try await client.execute(uri: "/get", method: .get, headers: [.cookie: cookie])
                #expect(String(buffer: after.body) == "")
                let id = try #require(SessionID(cookieValue: cookie.dropFirst("session=".count)))
                #expect(try await base.load(id.storageKey) == nil)
            }
        }
    }

    @Test func storeDownOnLoadAnswers503AndKeepsTheCookie() async throws {
        let clock = TestClock()
        let store = FaultInjectingSessionStore(MemorySessionStore(clock: clock.function))
        try await Application(router: try Self.router(store: store, clock: clock)).test(.router) { client in
            let cookie = try #require(Self.sessionCookie(try await client.execute(uri: "/set", method: .get)))
            store.fail([.load])
            let down = try await client.execute(uri: "/get", method: .get, headers: [.cookie: cookie])
            #expect(down.status == .serviceUnavailable)
            #expect(down.headers[values: .setCookie].isEmpty, "the user's ID is never rotated or deleted")
            store.heal()
            let back = try await client.execute(uri: "/get", method: .get, headers: [.cookie: cookie])
            #expect(String(buffer: back.body) == "alice", "still logged in once the store is back")
        }
    }

    @Test func continueAnonymousPolicyServesThePageAndWritesNothing() async throws {
        let clock = TestClock()
        let store = FaultInjectingSessionStore(MemorySessionStore(clock: clock.function))
        var configuration = SessionConfiguration()
        configuration.storeFailurePolicy = .continueAnonymous
        try await Application(router: try Self.router(store: store, configuration: configuration, clock: clock)).test(.router) { client in
            let cookie = try #require(Self.sessionCookie(try await client.execute(uri: "/set", method: .get)))
            store.fail([.load])
            store.resetCounts()
            let page = try await client.execute(uri: "/set?username=mallory", method: .get, headers: [.cookie: cookie])
            #expect(page.status == .ok)
            #expect(page.headers[values: .setCookie].isEmpty)
            #expect(store.writeCount == 0)
            store.heal()
            #expect(String(buffer: try await client.execute(uri: "/get", method: .get, headers: [.cookie: cookie]).body) == "alice")
        }
    }

    @Test func aFailedCommitSendsNoCookieForAnUnstoredID() async throws {
        let clock = TestClock()
        let store = FaultInjectingSessionStore(MemorySessionStore(clock: clock.function))
        try await Application(router: try Self.router(store: store, clock: clock)).test(.router) { client in
            store.fail([.create])
            let response = try await client.execute(uri: "/set", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[values: .setCookie].isEmpty)
        }
    }

    @Test func clearingAServerSessionDeletesIt() async throws {
        let clock = TestClock()
        let store = FaultInjectingSessionStore(MemorySessionStore(clock: clock.function))
        try await Application(router: try Self.router(store: store, clock: clock)).test(.router) { client in
            let browser = SessionTestClient(client, clock: clock.function)
            try await browser.execute(uri: "/set")
            let cleared = try await browser.execute(uri: "/clear")
            #expect(cleared.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(store.callCount(.delete) == 1)
        }
    }

    @Test func signedIDsAreCheckedBeforeAnyStoreAccess() async throws {
        let clock = TestClock()
        let store = FaultInjectingSessionStore(MemorySessionStore(clock: clock.function))
        let keys = try KeyRing(current: Fixture.secret)
        try await Application(router: try Self.router(store: store, signingKeys: keys, clock: clock)).test(.router) { client in
            let cookie = try #require(Self.sessionCookie(try await client.execute(uri: "/set", method: .get)))
            let value = String(cookie.dropFirst("session=".count))
            #expect(value.count == 43 + 1 + 22)
            #expect(String(buffer: try await client.execute(uri: "/get", method: .get, headers: [.cookie: cookie]).body) == "alice")
            store.resetCounts()
            let id = String(value.prefix(43))
            var forged = Array(value)
            forged[forged.count - 1] = forged[forged.count - 1] == "A" ? "B" : "A"
            for bad in [id, String(forged), id + ".", SessionID().cookieValue + String(value.dropFirst(43))] {
                let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: "session=\(bad)"])
                #expect(String(buffer: response.body) == "")
            }
            #expect(store.totalCount == 0, "no store access for an unsigned, forged or re-pointed ID")
        }
    }

    @Test func rotatingTheIDSigningKeyReissuesTheSameSession() async throws {
        let clock = TestClock()
        let store = MemorySessionStore(clock: clock.function)
        let old = try KeyRing(current: Fixture.oldSecret)
        let rotated = try KeyRing(current: Fixture.secret, previous: [Fixture.oldSecret])
        let oldCookie: String = try await Application(router: try Self.router(store: store, signingKeys: old, clock: clock)).test(.router) { client in
            try #require(Self.sessionCookie(try await client.execute(uri: "/set", method: .get)))
        }
        try await Application(router: try Self.router(store: store, signingKeys: rotated, clock: clock)).test(.router) { client in
            let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: oldCookie])
            #expect(String(buffer: response.body) == "alice")
            let reissued = try #require(Self.sessionCookie(response))
            #expect(reissued != oldCookie)
            #expect(reissued.prefix(51) == oldCookie.prefix(51), "same session ID, new MAC")
        }
    }
}
