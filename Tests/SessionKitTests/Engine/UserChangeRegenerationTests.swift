import Logging
import Testing
@testable import SessionKit

/// Fixation by default: a request that changes the session's user gets a new session ID, whether or
/// not the handler called `regenerateID()`, and the old ID is dead.
@Suite("New session ID when the user changes")
struct UserChangeRegenerationTests {
    static let now: Int64 = 1_800_000_000

    static func engine(_ store: MemorySessionStore, regenerates: Bool = true) -> SessionEngine {
        var configuration = SessionConfiguration()
        configuration.cookie.secure = false
        configuration.regeneratesIDWhenUserChanges = regenerates
        return SessionEngine(storage: .server(store), configuration: configuration, logger: .init(label: "test"), clock: { Self.now })
    }

    /// Runs one request with `cookie` (a session ID), lets `handler` change the session, and
    /// returns the ID the browser holds afterwards.
    static func request(_ engine: SessionEngine, _ cookie: String?, _ handler: (Session) -> Void) async throws -> String? {
        let session = try await engine.load(from: RequestCookies(header: cookie.map { "session=\($0)" } ?? ""))
        handler(session)
        let commit = try await engine.commit(session)
        return commit.setCookies.first?.value ?? cookie
    }

    static func user(_ engine: SessionEngine, _ cookie: String) async throws -> String? {
        let session = try await engine.load(from: RequestCookies(header: "session=\(cookie)"))
        return session[.userID]
    }

    @Test func loggingInWithoutRegeneratingStillGetsANewID() async throws {
        let store = MemorySessionStore(clock: { Self.now })
        let engine = Self.engine(store)
        let planted = try #require(try await Self.request(engine, nil) { $0["visits"] = 1 })
        let afterLogin = try #require(try await Self.request(engine, planted) { $0[.userID] = "victim" })
        #expect(afterLogin != planted, "a login must not keep the planted ID")
        #expect(try await Self.user(engine, afterLogin) == "victim")
        #expect(try await Self.user(engine, planted) == nil, "the planted ID must be dead")

        // Another user: a new ID again. The same user set again: the ID stays.
        let switched = try #require(try await Self.request(engine, afterLogin) { $0[.userID] = "someone-else" })
        #expect(switched != afterLogin)
        let same = try #require(try await Self.request(engine, switched) { $0[.userID] = "someone-else"; $0["x"] = 1 })
        #expect(same == switched, "setting the same user is no change")
        // Logging out by removing the user: a new ID.
        let loggedOut = try #require(try await Self.request(engine, same) { $0.remove(StoredSession.userIDKey) })
        #expect(loggedOut != same)
        #expect(try await Self.user(engine, same) == nil)
    }

    @Test func theOptOutKeepsTheID() async throws {
        let store = MemorySessionStore(clock: { Self.now })
        let engine = Self.engine(store, regenerates: false)
        let id = try #require(try await Self.request(engine, nil) { $0["visits"] = 1 })
        let afterLogin = try await Self.request(engine, id) { $0[.userID] = "ada" }
        #expect(afterLogin == id)
        #expect(try await Self.user(engine, id) == "ada")
    }
}
