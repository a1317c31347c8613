import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import HummingbirdTesting
import SessionKit
import SessionKitHummingbird
import SessionKitHummingbirdAuth
import SessionKitHummingbirdTesting
import SessionKitTesting
import Synchronization
import Testing

/// Logging in and out with SessionKit sessions and HummingbirdAuth's authenticators: the
/// session's `_user_id` becomes `context.identity`, and `IsAuthenticatedMiddleware` guards routes.
@Suite("SessionKit with HummingbirdAuth")
struct HummingbirdAuthLoginTests {
    static let users: [String: TestUser] = [
        "42": TestUser(id: "42", name: "alice"),
        "7": TestUser(id: "7", name: "bob"),
    ]

    /// The app: sessions, the authenticator (the user loader reads `users`), a login that checks
    /// nothing but the user's existence, and an account page behind `IsAuthenticatedMiddleware`.
    static func router(middleware: SessionKitMiddleware<AppContext>, loaderCalls: LoaderCalls = LoaderCalls()) -> Router<AppContext> {
        let router = Router(context: AppContext.self)
        router.add(middleware: middleware)
        router.add(middleware: SessionKitAuthenticator(context: AppContext.self) { userID, _ in
            loaderCalls.record(userID)
            return users[userID]
        })
        router.get("/visit") { _, context in
            context.session.increment("visits")
            return "ok"
        }
        router.get("/whoami") { _, context in
            context.identity?.name ?? "anonymous"
        }
        router.post("/login") { request, context in
            guard let id = request.uri.queryParameters.get("user") else { throw HTTPError(.badRequest) }
            context.session.login(userID: id)
            return "welcome"
        }
        router.post("/logout") { _, context in
            context.session.logout()
            return "bye"
        }
        router.group("account")
            .add(middleware: IsAuthenticatedMiddleware())
            .get { _, context in
                let user = try context.requireIdentity()
                return "\(user.name), visits: \(context.session["visits", as: Int.self] ?? 0)"
            }
        return router
    }

    /// The user IDs the loader was asked for.
    final class LoaderCalls: Sendable {
        private let calls = Mutex<[String]>([])
        func record(_ userID: String) { calls.withLock { $0.append(userID) } }
        var all: [String] { calls.withLock { $0 } }
    }

    /// `name=value` of the response's session cookie, if it sets one.
    static func sessionCookie(_ response: TestResponse) -> String? {
        response.headers[values: .setCookie].first { $0.hasPrefix("session=") }.map { String($0.prefix { $0 != ";" }) }
    }

    /// The whole flow on server-side sessions: anonymous is 401, login regenerates the ID (the
    /// old cookie is dead), the account page sees the user, logout makes it 401 again and kills
    /// the logged-in cookie too; the store's user index follows `_user_id`.
    @Test func loginFlowWithServerSessions() async throws {
        let store = MemorySessionStore()
        let loaderCalls = LoaderCalls()
        let app = Application(router: Self.router(middleware: try SessionKitMiddleware(store: store), loaderCalls: loaderCalls))
        try await app.test(.router) { client in
            let browser = SessionTestClient(client)

            // Anonymous, without a cookie: 401, and the loader is not asked.
            #expect(try await browser.execute(uri: "/account").status == .unauthorized)
            #expect(loaderCalls.all.isEmpty)

            // An anonymous session (the ID an attacker could have planted): still 401.
            let visit = try await browser.execute(uri: "/visit")
            let anonymousCookie = try #require(Self.sessionCookie(visit))
            #expect(try await browser.execute(uri: "/account").status == .unauthorized)

            // Log in: a new session ID, and the data of the anonymous session kept.
            let login = try await browser.execute(uri: "/login?user=42", method: .post)
            #expect(login.status == .ok)
            let loggedInCookie = try #require(Self.sessionCookie(login))
            #expect(loggedInCookie != anonymousCookie)
            let account = try await browser.execute(uri: "/account")
            #expect(account.status == .ok)
            #expect(String(buffer: account.body) == "alice, visits: 1")
            #expect(loaderCalls.all.last == "42")
            #expect(try await store.sessions(ofUser: "42").count == 1)

            // The cookie from before the login is dead: no session, no user.
            let replayed = try await client.execute(uri: "/account", method: .get, headers: [.cookie: anonymousCookie])
            #expect(replayed.status == .unauthorized)
            let replayedWho = try await client.execute(uri: "/whoami", method: .get, headers: [.cookie: anonymousCookie])
            #expect(String(buffer: replayedWho.body) == "anonymous")

            // Log out: the browser is told to forget the cookie, and the account page is 401 again.
            let logout = try await browser.execute(uri: "/logout", method: .post)
            #expect(logout.status == .ok)
            #expect(logout.headers[values: .setCookie].contains { $0.hasPrefix("session=") && $0.contains("Max-Age=0") })
            #expect(try await browser.execute(uri: "/account").status == .unauthorized)
            #expect(String(buffer: try await browser.execute(uri: "/whoami").body) == "anonymous")

            // The logged-in cookie is dead too (its record is deleted), and the index is empty.
            let stolen = try await client.execute(uri: "/account", method: .get, headers: [.cookie: loggedInCookie])
            #expect(stolen.status == .unauthorized)
            #expect(try await store.sessions(ofUser: "42").isEmpty)
        }
    }

    /// Cookie sessions: the same login and logout through the browser (a client-side cookie cannot
    /// be revoked, so this checks the browser's view, not replays).
    @Test func loginFlowWithCookieSessions() async throws {
        let secret = SessionSecret(text: String(repeating: "hummingbird-auth-test-secret-", count: 2))
        let app = Application(router: Self.router(middleware: try SessionKitMiddleware(secret: secret)))
        try await app.test(.router) { client in
            let browser = SessionTestClient(client)
            #expect(try await browser.execute(uri: "/account").status == .unauthorized)
            _ = try await browser.execute(uri: "/visit")
            let login = try await browser.execute(uri: "/login?user=7", method: .post)
            #expect(Self.sessionCookie(login) != nil)
            let account = try await browser.execute(uri: "/account")
            #expect(account.status == .ok)
            #expect(String(buffer: account.body) == "bob, visits: 1")
            _ = try await browser.execute(uri: "/logout", method: .post)
            #expect(browser.jar["session"] == nil)
            #expect(try await browser.execute(uri: "/account").status == .unauthorized)
        }
    }

    /// A session whose user the loader no longer finds is anonymous; it is not an error.
    @Test func unknownUserIsAnonymous() async throws {
        let app = Application(router: Self.router(middleware: try SessionKitMiddleware(store: MemorySessionStore())))
        try await app.test(.router) { client in
            let browser = SessionTestClient(client)
            let login = try await browser.execute(uri: "/login?user=99", method: .post)
            #expect(login.status == .ok)
            #expect(try await browser.execute(uri: "/account").status == .unauthorized)
            #expect(String(buffer: try await browser.execute(uri: "/whoami").body) == "anonymous")
        }
    }

    /// Logging in as another user starts from an empty session: nothing of the first user's
    /// carries over. Logging in again as the same user keeps the session's data.
    @Test func loginAsAnotherUserDropsThePreviousUsersData() async throws {
        let store = MemorySessionStore()
        let app = Application(router: Self.router(middleware: try SessionKitMiddleware(store: store)))
        try await app.test(.router) { client in
            let browser = SessionTestClient(client)
            _ = try await browser.execute(uri: "/visit")
            _ = try await browser.execute(uri: "/login?user=42", method: .post)
            _ = try await browser.execute(uri: "/visit")
            _ = try await browser.execute(uri: "/login?user=42", method: .post)
            #expect(String(buffer: try await browser.execute(uri: "/account").body) == "alice, visits: 2")
            _ = try await browser.execute(uri: "/login?user=7", method: .post)
            #expect(String(buffer: try await browser.execute(uri: "/account").body) == "bob, visits: 0")
            #expect(try await store.sessions(ofUser: "42").isEmpty)
            #expect(try await store.sessions(ofUser: "7").count == 1)
        }
    }

    /// The ready-made context and HummingbirdAuth's own `UserSessionRepository`.
    @Test func basicContextWithARepository() async throws {
        typealias Context = BasicSessionKitAuthRequestContext<TestUser>
        let repository = UserSessionClosureRepository<String, TestUser> { id, _ in Self.users[id] }
        let router = Router(context: Context.self)
        router.add(middleware: try SessionKitMiddleware(store: MemorySessionStore()))
        router.add(middleware: SessionKitAuthenticator(users: repository, context: Context.self))
        router.post("/login") { _, context in
            context.session.login(userID: "42")
            return "welcome"
        }
        router.group("account").add(middleware: IsAuthenticatedMiddleware()).get { _, context in
            try context.requireIdentity().name
        }
        try await Application(router: router).test(.router) { client in
            let browser = SessionTestClient(client)
            #expect(try await browser.execute(uri: "/account").status == .unauthorized)
            _ = try await browser.execute(uri: "/login", method: .post)
            #expect(String(buffer: try await browser.execute(uri: "/account").body) == "alice")
        }
    }
}
