import Logging
import SessionKitTesting
import Testing
@testable import SessionKit

/// A request whose session was renamed or deleted while it ran: it never re-creates the session,
/// and it sends a deletion cookie only when it invalidated the session itself. A request still
/// carrying the pre-login ID must not delete the cookie a concurrent login just set.
@Suite("Session gone during a request")
struct SessionGoneDuringRequestTests {
    static func engine(_ store: any SessionStore, clock: ContractClock) -> SessionEngine {
        SessionEngine(storage: .server(store), configuration: SessionConfiguration(), logger: Logger(label: "test"), clock: clock.function)
    }

    /// The cookie value of a new session holding `values`.
    static func newSession(_ engine: SessionEngine, _ values: [String: String]) async throws -> String {
        let session = try await engine.load(from: RequestCookies())
        for (key, value) in values { session[key] = value }
        return try #require(try await engine.commit(session).setCookies.first).value
    }

    @Test func aLateRequestWithThePreLoginIDSendsNoDeletion() async throws {
        let clock = ContractClock()
        let store = MemorySessionStore(clock: clock.function)
        let engine = Self.engine(store, clock: clock)
        let preLogin = try await Self.newSession(engine, ["cart": "book"])
        // Two requests carry the pre-login ID: a slow one that changes the cart, and the login.
        let slow = try await engine.load(from: RequestCookies(header: "session=\(preLogin)"))
        let login = try await engine.load(from: RequestCookies(header: "session=\(preLogin)"))
        login.regenerateID()
        login[StoredSession.userIDKey] = "42"
        let loginCommit = try await engine.commit(login)
        let newID = try #require(loginCommit.setCookies.first)
        #expect(newID.value != preLogin && newID.maxAge != 0)
        // The slow request's update finds the old ID gone: it must not tell the browser to delete
        // the session cookie, which now holds the new ID.
        slow["cart"] = "book, pen"
        let slowCommit = try await engine.commit(slow)
        #expect(slowCommit.setCookies.isEmpty, "\(slowCommit.setCookies.map(\.headerValue))")
        // A slow request that only read, and whose touch finds the ID gone, neither.
        let reader = try await engine.load(from: RequestCookies(header: "session=\(preLogin)"))
        #expect(reader.isEmpty)  // the old ID is dead
        clock.advance(by: 3600)
        let secondPreLogin = try await Self.newSession(engine, ["cart": "mug"])
        clock.advance(by: 1000)  // past the touch threshold
        let slowReader = try await engine.load(from: RequestCookies(header: "session=\(secondPreLogin)"))
        _ = slowReader["cart", as: String.self]
        let secondLogin = try await engine.load(from: RequestCookies(header: "session=\(secondPreLogin)"))
        secondLogin.regenerateID()
        _ = try await engine.commit(secondLogin)
        #expect(try await engine.commit(slowReader).setCookies.isEmpty)
        // The new ID works.
        let after = try await engine.load(from: RequestCookies(header: "session=\(newID.value)"))
        #expect(after[StoredSession.userIDKey, as: String.self] == "42")
        #expect(after["cart", as: String.self] == "book")
    }

    @Test func aRequestThatInvalidatesStillSendsTheDeletion() async throws {
        let clock = ContractClock()
        let store = MemorySessionStore(clock: clock.function)
        let engine = Self.engine(store, clock: clock)
        let cookie = try await Self.newSession(engine, ["user": "ada"])
        let logout = try await engine.load(from: RequestCookies(header: "session=\(cookie)"))
        logout.invalidate()
        let commit = try await engine.commit(logout)
        #expect(commit.setCookies.map(\.maxAge) == [0])
        // ... even when a revocation deleted the record first.
        let other = try await Self.newSession(engine, ["user": "bob"])
        let late = try await engine.load(from: RequestCookies(header: "session=\(other)"))
        try await store.delete(try #require(late.storageKey))
        late.invalidate()
        #expect(try await engine.commit(late).setCookies.map(\.maxAge) == [0])
    }
}
