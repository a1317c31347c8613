import Logging
import SessionKitTesting
import Testing
@testable import SessionKit

/// What a commit asks of caches: a response that sets the session cookie is `Cache-Control:
/// private` (`no-store` when it hands out a new session ID), so no shared cache serves one user's
/// cookie to another; a response that read the session has `Vary: Cookie`.
@Suite("Session cache headers")
struct SessionCacheHeadersTests {
    static let keys = try! KeyRing(current: SessionSecret(text: String(repeating: "cache-header-secret-", count: 2)))

    static func engines(_ clock: ContractClock) -> [SessionEngine] {
        [
            SessionEngine(storage: .server(MemorySessionStore(clock: clock.function)), configuration: SessionConfiguration(), logger: Logger(label: "test"), clock: clock.function),
            SessionEngine(storage: .cookie(EncryptedSessionCodec(keys: keys)), configuration: SessionConfiguration(), logger: Logger(label: "test"), clock: clock.function),
        ]
    }

    @Test(arguments: [0, 1])
    func cacheControlFollowsTheSessionCookie(engineIndex: Int) async throws {
        let clock = ContractClock()
        let engine = Self.engines(clock)[engineIndex]
        let storage = "\(engine.storage)"

        // Untouched: nothing to say.
        let untouched = try await engine.commit(try await engine.load(from: RequestCookies()))
        #expect(untouched.cacheControl == nil && !untouched.varyCookie, "\(storage)")

        // A new session: a new cookie (a new ID), never stored.
        let fresh = try await engine.load(from: RequestCookies())
        fresh["user"] = "ada"
        let created = try await engine.commit(fresh)
        #expect(created.setCookies.count == 1 && created.varyCookie, "\(storage)")
        #expect(created.cacheControl == "no-store", "\(storage)")
        let cookie = "session=\(created.setCookies[0].value)"

        // Read only: the response depends on the cookie, but sets none.
        let reader = try await engine.load(from: RequestCookies(header: cookie))
        #expect(reader["user", as: String.self] == "ada")
        let read = try await engine.commit(reader)
        #expect(read.setCookies.isEmpty && read.varyCookie, "\(storage)")
        #expect(read.cacheControl == nil, "\(storage)")

        // A change of the same session: a cookie for this user only.
        let writer = try await engine.load(from: RequestCookies(header: cookie))
        writer["theme"] = "dark"
        let written = try await engine.commit(writer)
        if !written.setCookies.isEmpty {
            #expect(written.cacheControl == "private", "\(storage)")
        }
        #expect(written.varyCookie, "\(storage)")

        // A permanent session's cookie slides: private.
        let permanent = try await engine.load(from: RequestCookies(header: cookie))
        permanent.isPermanent = true
        let madePermanent = try await engine.commit(permanent)
        #expect(madePermanent.setCookies.count == 1 && madePermanent.cacheControl == "private", "\(storage)")

        // A new ID for the same data (a login): never stored.
        let login = try await engine.load(from: RequestCookies(header: cookie))
        login.regenerateID()
        login["_user_id"] = "42"
        let loggedIn = try await engine.commit(login)
        #expect(loggedIn.setCookies.count == 1 && loggedIn.cacheControl == "no-store", "\(storage)")
        let newCookie = "session=\(loggedIn.setCookies[0].value)"

        // A logout's deletion: private.
        let logout = try await engine.load(from: RequestCookies(header: newCookie))
        logout.invalidate()
        let loggedOut = try await engine.commit(logout)
        #expect(loggedOut.setCookies.map(\.maxAge) == [0] && loggedOut.cacheControl == "private", "\(storage)")
        #expect(loggedOut.varyCookie, "\(storage)")

        // A response that is not committed (a 500) but read the session keeps Vary: Cookie.
        let failing = try await engine.load(from: RequestCookies(header: newCookie))
        _ = failing["user", as: String.self]
        failing["x"] = "y"
        let failed = try await engine.commit(failing, status: 500)
        #expect(failed.setCookies.isEmpty && failed.cacheControl == nil && failed.varyCookie, "\(storage)")
    }
}
