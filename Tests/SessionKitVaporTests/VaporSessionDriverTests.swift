import Foundation
import NIOCore
import SessionKit
import SessionKitSQLite
import SessionKitTesting
import SessionKitVapor
import Testing
import Vapor
import VaporTesting

/// The drop-in: an otherwise unchanged Vapor app (`app.sessions.middleware`, `req.session.data`)
/// with its driver replaced by ``SessionKitSessionDriver``.
@Suite("SessionKitSessionDriver")
struct VaporSessionDriverTests {
    /// A Vapor app as Vapor's docs write one, but for the `app.sessions.use` line.
    static func configure(store: any SessionStore, clock: TestClock) -> (Application) async throws -> Void {
        { app in
            app.sessions.use { _ in SessionKitSessionDriver(store: store, clock: clock.function) }
            app.middleware.use(app.sessions.middleware)
            app.get("set") { req -> String in
                req.session.data["name"] = (try? req.query.get(String.self, at: "name")) ?? "vapor"
                return "set"
            }
            app.get("get") { req in req.session.data["name"] ?? "" }
            app.get("other") { req -> String in
                req.session.data["other"] = "x"
                return "ok"
            }
            app.get("keys") { req in req.session.data.snapshot.keys.sorted().joined(separator: ",") }
            app.get("destroy") { req -> String in
                req.session.destroy()
                return "bye"
            }
            app.get("noop") { _ in "noop" }
        }
    }

    static let cookieName = "vapor-session"

    @Test func dropInKeepsVaporsAPIAndHashesIDsAtRest() async throws {
        let clock = TestClock()
        let store = MemorySessionStore(clock: clock.function)
        try await withTestApp(Self.configure(store: store, clock: clock)) { app in
            let browser = Browser(app)
            try await browser.get("set?name=alice")
            let cookie = try #require(browser.cookie(Self.cookieName))
            #expect(cookie.count == 43)
            #expect(try await browser.get("get").text == "alice")
            // Stored under the SHA-256 of the ID, never the cookie value itself.
            let id = try #require(KitSessionID(cookieValue: cookie))
            #expect(try await store.load(id.storageKey)?.values["name"]?.decode(String.self) == "alice")
            #expect(id.storageKey.hex != cookie)
            #expect(!id.storageKey.hex.contains(cookie))
            #expect(store.count == 1)

            try await browser.get("destroy")
            #expect(try await store.load(id.storageKey) == nil)
            #expect(try await browser.get("get").text == "")
        }
    }

    @Test func aRevokedSessionIsNotResurrected() async throws {
        let clock = TestClock()
        let store = MemorySessionStore(clock: clock.function)
        try await withTestApp(Self.configure(store: store, clock: clock)) { app in
            let cookie = try #require(try await send(app, "set?name=alice").cookiePair(Self.cookieName))
            let id = try #require(KitSessionID(cookieValue: cookie.dropFirst(Self.cookieName.count + 1)))
            // Revoked on the server (a logout elsewhere, an admin, `sessionkit sessions revoke`).
            try await store.delete(id.storageKey)
            // Vapor's middleware saves the session of every response; the old data never comes back.
            let response = try await send(app, "other", cookie: cookie)
            #expect(response.status == .ok)
            #expect(try await store.load(id.storageKey) == nil, "the revoked ID is not re-created")
            let newCookie = try #require(response.cookiePair(Self.cookieName))
            #expect(newCookie != cookie)
            #expect(try await send(app, "keys", cookie: newCookie).text == "other", "the new session does not hold the revoked one's data")
            #expect(try await send(app, "get", cookie: cookie).text == "")
        }
    }

    @Test func aSessionDeletedDuringARequestStaysDeleted() async throws {
        let clock = TestClock()
        let store = MemorySessionStore(clock: clock.function)
        try await withTestApp({ app in
            try await Self.configure(store: store, clock: clock)(app)
            app.get("race") { req -> String in
                // Another request logs this session out while this one runs.
                let id = try #require(KitSessionID(cookieValue: req.session.id?.string ?? ""))
                try await store.delete(id.storageKey)
                req.session.data["late"] = "write"
                return "ok"
            }
        }) { app in
            let cookie = try #require(try await send(app, "set?name=alice").cookiePair(Self.cookieName))
            let id = try #require(KitSessionID(cookieValue: cookie.dropFirst(Self.cookieName.count + 1)))
            #expect(try await send(app, "race", cookie: cookie).status == .ok)
            #expect(try await store.load(id.storageKey) == nil)
            #expect(store.count == 0)
        }
    }

    @Test func serverSideExpiryIgnoresTheCookiesOwnExpiry() async throws {
        let clock = TestClock()
        let store = MemorySessionStore(clock: clock.function)
        try await withTestApp(Self.configure(store: store, clock: clock)) { app in
            let browser = Browser(app)
            try await browser.get("set")
            #expect(try await browser.get("get").text == "vapor")
            clock.advance(SessionConfiguration().idleTimeoutSeconds + 1)
            #expect(try await browser.get("get").text == "", "idle past the timeout: gone, though Vapor's cookie lasts a week")
        }
    }

    @Test func readsAndUnknownCookiesWriteNothing() async throws {
        let clock = TestClock()
        let store = FaultInjectingSessionStore(MemorySessionStore(clock: clock.function))
        try await withTestApp(Self.configure(store: store, clock: clock)) { app in
            let cookie = try #require(try await send(app, "set").cookiePair(Self.cookieName))
            store.resetCounts()
            #expect(try await send(app, "get", cookie: cookie).text == "vapor")
            #expect(try await send(app, "noop", cookie: cookie).status == .ok)
            #expect(store.writeCount == 0, "Vapor saves every response; unchanged data is not rewritten")
            // A bot's made-up cookie: Vapor's middleware creates a session for it; nothing is stored.
            _ = try await send(app, "get", cookie: "\(Self.cookieName)=\(KitSessionID().cookieValue)")
            _ = try await send(app, "get", cookie: "\(Self.cookieName)=garbage")
            #expect(store.writeCount == 0)
        }
    }

    /// A read of a session whose idle deadline is due to move is one store call: the load that
    /// extends it (before, a load and then a touch from the update).
    @Test func aReadWhoseDeadlineIsDueIsOneStoreCall() async throws {
        let clock = TestClock()
        let memory = MemorySessionStore(clock: clock.function)
        let store = RoundTripCountingStore(memory)
        try await withTestApp(Self.configure(store: store, clock: clock)) { app in
            let cookie = try #require(try await send(app, "set?name=alice").cookiePair(Self.cookieName))
            let key = try #require(KitSessionID(cookieValue: cookie.dropFirst(Self.cookieName.count + 1))).storageKey
            let idle = SessionConfiguration().idleTimeoutSeconds
            store.reset()
            #expect(try await send(app, "get", cookie: cookie).text == "alice")
            #expect(store.counts == ["loadTouch": 1], "not due yet: one load, nothing written")
            let before = try #require(try await memory.load(key)).expiresAt
            clock.advance(idle / 2)
            store.reset()
            #expect(try await send(app, "get", cookie: cookie).text == "alice")
            #expect(store.counts == ["loadTouch": 1], "due: the load extends the deadline, nothing else")
            let after = try #require(try await memory.load(key))
            #expect(after.expiresAt == before + idle / 2, "the deadline moved with the read")
            #expect(after.lastSeenAt == clock.now)
        }
    }

    @Test func concurrentRequestsChangingDifferentKeysBothSurvive() async throws {
        let clock = TestClock()
        let store = MemorySessionStore(clock: clock.function)
        try await withTestApp(Self.configure(store: store, clock: clock)) { app in
            let cookie = try #require(try await send(app, "set?name=alice").cookiePair(Self.cookieName))
            async let a = send(app, "other", cookie: cookie)
            async let b = send(app, "set?name=bob", cookie: cookie)
            _ = try await (a, b)
            #expect(try await send(app, "keys", cookie: cookie).text == "name,other")
        }
    }

    @Test func aStoreOutageAnswers503() async throws {
        let clock = TestClock()
        let store = FaultInjectingSessionStore(MemorySessionStore(clock: clock.function))
        try await withTestApp(Self.configure(store: store, clock: clock)) { app in
            let cookie = try #require(try await send(app, "set?name=alice").cookiePair(Self.cookieName))
            store.fail([.load])
            let down = try await send(app, "get", cookie: cookie)
            #expect(down.status == .serviceUnavailable)
            #expect(down.setCookies.isEmpty)
            store.heal()
            #expect(try await send(app, "get", cookie: cookie).text == "alice")
        }
    }

    @Test func worksOnSQLite() async throws {
        let clock = TestClock()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = SQLiteSessionStore(path: directory.appendingPathComponent("s.sqlite").path, clock: clock.function)
        try await withTestApp({ app in
            app.lifecycle.use(SessionKitStoreLifecycle(store: store))
            try await Self.configure(store: store, clock: clock)(app)
        }) { app in
            let browser = Browser(app)
            try await browser.get("set?name=carol")
            #expect(try await browser.get("get").text == "carol")
        }
    }
}
