import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SessionKit
import SessionKitHummingbird
import SessionKitHummingbirdTesting
import Synchronization
import Testing

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let seconds: Mutex<Int64>
    init(_ start: Int64 = 1_700_000_000) { seconds = Mutex(start) }
    var now: Int64 { seconds.withLock { $0 } }
    func advance(_ delta: Int64) { seconds.withLock { $0 += delta } }
    var function: @Sendable () -> Int64 { { self.now } }
}

enum Fixture {
    static let secret = SessionSecret(text: "test-secret-test-secret-test-secret-0001")
    static let oldSecret = SessionSecret(text: "test-secret-test-secret-test-secret-0000")

    /// The seeds' tutorial routes plus a few for the rules under test.
    static func router(
        format: CookieSessionFormat = .encrypted,
        secret: SessionSecret = secret,
        previous: [SessionSecret] = [],
        configuration: SessionConfiguration = SessionConfiguration(),
        clock: TestClock = TestClock()
    ) throws -> Router<BasicSessionKitRequestContext> {
        let router = Router(context: BasicSessionKitRequestContext.self)
        router.add(middleware: try SessionKitMiddleware(secret: secret, previousSecrets: previous, format: format, configuration: configuration, clock: clock.function))
        router.get("/set") { request, context in
            context.session["username"] = request.uri.queryParameters.get("username") ?? "liefyuan"
            return "success"
        }
        router.get("/get") { _, context in context.session["username", as: String.self] ?? "" }
        router.get("/require") { _, context in try context.session.require("username", as: String.self) }
        router.get("/delete") { _, context in
            context.session.remove("username")
            return "success"
        }
        router.get("/clear") { _, context in
            context.session.clear()
            return "success"
        }
        router.get("/permanent") { _, context in
            context.session["username"] = "perm"
            context.session.isPermanent = true
            return "ok"
        }
        router.get("/noop") { _, _ in "noop" }
        router.get("/counter") { _, context in
            let n = context.session.get("n", default: 0) + 1
            context.session["n"] = n
            return "\(n)"
        }
        router.get("/big") { request, context in
            let size = Int(request.uri.queryParameters.get("size") ?? "5000") ?? 5000
            context.session["blob"] = String(repeating: "x", count: size)
            return "ok"
        }
        router.get("/fail4xx") { _, context -> String in
            context.session.flash("try again")
            throw HTTPError(.unprocessableContent)
        }
        router.get("/fail5xx") { _, context -> String in
            context.session["half"] = "saved?"
            throw HTTPError(.internalServerError)
        }
        router.get("/cookies") { _, context in context.cookies.all("user").joined(separator: "|") }
        router.get("/logout") { _, context in
            context.session.invalidate()
            return "bye"
        }
        return router
    }
}

@Suite("SessionKitMiddleware")
struct SessionMiddlewareTests {
    @Test(arguments: [CookieSessionFormat.encrypted, .signed, .flask])
    func seedTutorialFlow(format: CookieSessionFormat) async throws {
        let app = Application(router: try Fixture.router(format: format))
        try await app.test(.router) { client in
            let browser = SessionTestClient(client)
            var response = try await browser.execute(uri: "/get")
            #expect(String(buffer: response.body) == "")
            #expect(response.headers[values: .setCookie].isEmpty)
            #expect(response.headers[.vary] == "Cookie")

            response = try await browser.execute(uri: "/set")
            #expect(String(buffer: response.body) == "success")
            let setCookie = try #require(response.headers[.setCookie])
            #expect(setCookie.hasPrefix("session="))
            if format == .flask {
                #expect(setCookie.hasSuffix("; HttpOnly; Path=/; SameSite=Lax") || setCookie.hasSuffix("; Secure; HttpOnly; Path=/; SameSite=Lax"))
            } else {
                #expect(setCookie.hasSuffix("; Secure; HttpOnly; Path=/; SameSite=Lax"))
            }
            #expect(!setCookie.contains("Expires"))

            response = try await browser.execute(uri: "/get")
            #expect(String(buffer: response.body) == "liefyuan")
            #expect(response.headers[values: .setCookie].isEmpty)

            response = try await browser.execute(uri: "/delete")
            #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            response = try await browser.execute(uri: "/get")
            #expect(String(buffer: response.body) == "")
            #expect(browser.jar.cookieHeader(for: browser.origin, now: Date()) == nil)
        }
    }

    @Test func untouchedSessionSendsNothing() async throws {
        let app = Application(router: try Fixture.router())
        try await app.test(.router) { client in
            let browser = SessionTestClient(client)
            try await browser.execute(uri: "/set")
            let response = try await browser.execute(uri: "/noop")
            #expect(response.headers[values: .setCookie].isEmpty)
            #expect(response.headers[.vary] == nil)
        }
    }

    @Test func requireOnMissingKeyIsAnError() async throws {
        let app = Application(router: try Fixture.router())
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/require", method: .get)
            #expect(response.status == .internalServerError)
        }
    }

    @Test func varyNamesCookieOnceBesideWhatTheHandlerSet() async throws {
        let router = Router(context: BasicSessionKitRequestContext.self)
        router.add(middleware: try SessionKitMiddleware(secret: SessionSecret(text: String(repeating: "vary-test-secret-", count: 2))))
        for (path, vary) in [("/present", "Accept-Encoding, cookie"), ("/absent", "Accept-Encoding")] {
            router.get(RouterPath(path)) { _, context in
                _ = context.session["user", as: String.self]
                var response = Response(status: .ok)
                response.headers[.vary] = vary
                return response
            }
        }
        try await Application(router: router).test(.router) { client in
            // Already there, in any case and among others: not added again.
            let present = try await client.execute(uri: "/present", method: .get)
            #expect(present.headers[values: .vary] == ["Accept-Encoding, cookie"])
            // Absent: added beside the handler's own.
            let absent = try await client.execute(uri: "/absent", method: .get)
            #expect(absent.headers[values: .vary] == ["Accept-Encoding", "Cookie"])
        }
    }

    /// A response that sets the session cookie is never stored by a shared cache: `private`, or
    /// `no-store` when it hands out a new session; a handler's own Cache-Control is kept.
    @Test func responsesSettingTheSessionCookieAreNotCachedForOthers() async throws {
        let router = try Fixture.router()
        router.get("/own-cache-control") { _, context in
            context.session["username"] = "x"
            var response = Response(status: .ok)
            response.headers[.cacheControl] = "no-cache"
            return response
        }
        try await Application(router: router).test(.router) { client in
            let created = try await client.execute(uri: "/set", method: .get)
            #expect(created.headers[.cacheControl] == "no-store", "a new session's cookie")
            let cookie = try #require(created.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let changed = try await client.execute(uri: "/set?username=bob", method: .get, headers: [.cookie: cookie])
            #expect(changed.headers[.setCookie] != nil)
            #expect(changed.headers[.cacheControl] == "private", "a re-issued cookie")
            let read = try await client.execute(uri: "/get", method: .get, headers: [.cookie: cookie])
            #expect(read.headers[.setCookie] == nil && read.headers[.cacheControl] == nil, "no cookie, nothing to protect")
            #expect(read.headers[.vary] == "Cookie")
            let own = try await client.execute(uri: "/own-cache-control", method: .get)
            #expect(own.headers[values: .cacheControl] == ["no-cache"], "the handler's own choice is kept")
        }
    }

    @Test func clearDeletesWithTheSameAttributes() async throws {
        var configuration = SessionConfiguration()
        configuration.cookie.name = "__Host-sid"
        configuration.cookie.sameSite = .strict
        let app = Application(router: try Fixture.router(configuration: configuration))
        try await app.test(.router) { client in
            let browser = SessionTestClient(client)
            try await browser.execute(uri: "/set")
            let response = try await browser.execute(uri: "/clear")
            #expect(response.headers[.setCookie] == "__Host-sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; Path=/; SameSite=Strict")
            #expect(response.headers[.vary] == "Cookie")
            #expect(browser.jar.cookieHeader(for: browser.origin, now: Date()) == nil)
        }
    }

    @Test(arguments: [CookieSessionFormat.encrypted, .signed, .flask])
    func tamperingGivesAnEmptySessionNeverAnError(format: CookieSessionFormat) async throws {
        let app = Application(router: try Fixture.router(format: format))
        try await app.test(.router) { client in
            let browser = SessionTestClient(client)
            let set = try await browser.execute(uri: "/set")
            let cookie = try #require(set.headers[.setCookie])
            let value = String(cookie.dropFirst("session=".count).prefix { $0 != ";" })
            try #require(value.count > 20)
            var positions = Array(stride(from: 0, to: value.count, by: max(1, value.count / 12)))
            positions.append(value.count - 1)
            for position in positions {
                var chars = Array(value)
                chars[position] = chars[position] == "A" ? "B" : "A"
                let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: "session=\(String(chars))"])
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "", "tampered at \(position)")
                #expect(response.headers[values: .setCookie].isEmpty)
            }
            for garbage in ["", "x", "a.b.c", String(repeating: "A", count: 5000), "\u{1}\u{2}", "%%%", "..", "ey.."] {
                let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: "session=\(garbage)"])
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "")
            }
        }
    }

    @Test func keyRotationReissuesUnderTheNewKey() async throws {
        let clock = TestClock()
        let oldApp = Application(router: try Fixture.router(secret: Fixture.oldSecret, clock: clock))
        let oldCookie: String = try await oldApp.test(.router) { client in
            let response = try await client.execute(uri: "/set", method: .get)
            return try #require(response.headers[.setCookie]).components(separatedBy: ";")[0]
        }
        let newApp = Application(router: try Fixture.router(secret: Fixture.secret, previous: [Fixture.oldSecret], clock: clock))
        let reissued: String = try await newApp.test(.router) { client in
            let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: oldCookie])
            #expect(String(buffer: response.body) == "liefyuan")
            return try #require(response.headers[.setCookie], "a cookie under an old key is re-issued").components(separatedBy: ";")[0]
        }
        #expect(reissued != oldCookie)
        // The re-issued cookie verifies with the new key alone, not with the old one.
        let newOnly = Application(router: try Fixture.router(secret: Fixture.secret, clock: clock))
        try await newOnly.test(.router) { client in
            let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: reissued])
            #expect(String(buffer: response.body) == "liefyuan")
            #expect(response.headers[values: .setCookie].isEmpty)
        }
        try await oldApp.test(.router) { client in
            let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: reissued])
            #expect(String(buffer: response.body) == "")
        }
    }

    @Test func cookieMovedToAnotherNameIsRejected() async throws {
        var configuration = SessionConfiguration()
        configuration.cookie.name = "other"
        let clock = TestClock()
        let app = Application(router: try Fixture.router(clock: clock))
        let value: String = try await app.test(.router) { client in
            let response = try await client.execute(uri: "/set", method: .get)
            return String(try #require(response.headers[.setCookie]).dropFirst("session=".count).prefix { $0 != ";" })
        }
        let renamed = Application(router: try Fixture.router(configuration: configuration, clock: clock))
        try await renamed.test(.router) { client in
            let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: "other=\(value)"])
            #expect(String(buffer: response.body) == "")
        }
    }

    @Test func expiryFollowsTheInjectedClock() async throws {
        let clock = TestClock()
        var configuration = SessionConfiguration()
        configuration.permanentLifetime = .seconds(600)
        let app = Application(router: try Fixture.router(configuration: configuration, clock: clock))
        try await app.test(.router) { client in
            let browser = SessionTestClient(client, clock: clock.function)
            try await browser.execute(uri: "/set")
            clock.advance(600)
            #expect(String(buffer: try await browser.execute(uri: "/get").body) == "liefyuan")
            clock.advance(1)
            // The browser would still send a non-permanent cookie; the server refuses it.
            let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: browser.jar.cookieHeader(for: browser.origin, now: Date(timeIntervalSince1970: 0)) ?? ""])
            #expect(String(buffer: response.body) == "")
        }
    }

    @Test func permanentSessionsCarryExpiresAndRefresh() async throws {
        let clock = TestClock()
        var configuration = SessionConfiguration()
        configuration.refreshInterval = .seconds(60)
        let app = Application(router: try Fixture.router(configuration: configuration, clock: clock))
        try await app.test(.router) { client in
            let browser = SessionTestClient(client, clock: clock.function)
            let first = try await browser.execute(uri: "/permanent")
            let header = try #require(first.headers[.setCookie])
            #expect(header.contains("Expires=Fri, 15 Dec 2023 22:13:20 GMT"))
            // Within the refresh interval: no new cookie.
            clock.advance(30)
            #expect(try await browser.execute(uri: "/noop").headers[values: .setCookie].isEmpty)
            // After it: re-issued with a later Expires, even though the handler did not touch it.
            clock.advance(31)
            let refreshed = try await browser.execute(uri: "/get")
            #expect(refreshed.headers[.setCookie]?.contains("Expires=Fri, 15 Dec 2023 22:14:21 GMT") == true)
        }
    }

    @Test func oversizeSessionIsAnErrorNotASilentDrop() async throws {
        let app = Application(router: try Fixture.router())
        try await app.test(.router) { client in
            let ok = try await client.execute(uri: "/big?size=2000", method: .get)
            #expect(ok.status == .ok)
            let response = try await client.execute(uri: "/big?size=5000", method: .get)
            #expect(response.status == .internalServerError)
            #expect(response.headers[values: .setCookie].isEmpty)
        }
    }

    @Test func errorCommitPolicy() async throws {
        let app = Application(router: try Fixture.router())
        try await app.test(.router) { client in
            let browser = SessionTestClient(client)
            let clientError = try await browser.execute(uri: "/fail4xx")
            #expect(clientError.status == .unprocessableContent)
            #expect(!clientError.headers[values: .setCookie].isEmpty, "4xx commits by default")
            let serverError = try await browser.execute(uri: "/fail5xx")
            #expect(serverError.status == .internalServerError)
            #expect(serverError.headers[values: .setCookie].isEmpty, "5xx does not commit by default")
        }
        var always = SessionConfiguration()
        always.errorCommitPolicy = .always
        try await Application(router: try Fixture.router(configuration: always)).test(.router) { client in
            let response = try await client.execute(uri: "/fail5xx", method: .get)
            #expect(!response.headers[values: .setCookie].isEmpty)
        }
        var never = SessionConfiguration()
        never.errorCommitPolicy = .never
        try await Application(router: try Fixture.router(configuration: never)).test(.router) { client in
            let response = try await client.execute(uri: "/fail4xx", method: .get)
            #expect(response.headers[values: .setCookie].isEmpty)
        }
    }

    @Test func invalidateDeletesTheCookie() async throws {
        let app = Application(router: try Fixture.router())
        try await app.test(.router) { client in
            let browser = SessionTestClient(client)
            try await browser.execute(uri: "/set")
            let response = try await browser.execute(uri: "/logout")
            #expect(response.headers[.setCookie]?.hasPrefix("session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0") == true)
            #expect(String(buffer: try await browser.execute(uri: "/get").body) == "")
        }
    }

    @Test func allValuesOfADuplicatedCookie() async throws {
        let app = Application(router: try Fixture.router())
        try await app.test(.router) { client in
            var headers = HTTPFields()
            headers.append(HTTPField(name: .cookie, value: "user=a; x=1"))
            headers.append(HTTPField(name: .cookie, value: "user=b"))
            let response = try await client.execute(uri: "/cookies", method: .get, headers: headers)
            #expect(String(buffer: response.body) == "a|b")
        }
    }

    @Test func firstValidCandidateWins() async throws {
        let app = Application(router: try Fixture.router())
        try await app.test(.router) { client in
            let set = try await client.execute(uri: "/set", method: .get)
            let good = try #require(set.headers[.setCookie]).components(separatedBy: ";")[0]
            let response = try await client.execute(uri: "/get", method: .get, headers: [.cookie: "session=garbage; \(good)"])
            #expect(String(buffer: response.body) == "liefyuan")
        }
    }

    @Test func concurrentRequestsEachGetTheirOwnSession() async throws {
        let app = Application(router: try Fixture.router())
        try await app.test(.router) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let browser = SessionTestClient(client)
                        try await browser.execute(uri: "/set?username=user\(index)")
                        for _ in 0..<3 { try await browser.execute(uri: "/counter") }
                        #expect(String(buffer: try await browser.execute(uri: "/get").body) == "user\(index)")
                        #expect(String(buffer: try await browser.execute(uri: "/counter").body) == "4")
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func shortSecretIsAClearStartupError() {
        #expect(throws: SessionError.self) {
            _ = try SessionKitMiddleware<BasicSessionKitRequestContext>(secret: SessionSecret(text: "short"))
        }
        // The Flask format accepts whatever key a Flask app uses.
        #expect(throws: Never.self) {
            _ = try SessionKitMiddleware<BasicSessionKitRequestContext>(secret: SessionSecret(text: "short"), format: .flask)
        }
    }
}

@Suite("Session configuration")
struct SessionConfigurationTests {
    @Test func invalidCookieAttributesFailAtStartup() {
        var hostWithDomain = SessionConfiguration()
        hostWithDomain.cookie.name = "__Host-session"
        hostWithDomain.cookie.domain = "example.com"
        var noneWithoutSecure = SessionConfiguration()
        noneWithoutSecure.cookie.sameSite = SetCookie.SameSite.none
        noneWithoutSecure.cookie.secure = false
        var badName = SessionConfiguration()
        badName.cookie.name = "my session"
        var zeroLifetime = SessionConfiguration()
        zeroLifetime.permanentLifetime = .zero
        for configuration in [hostWithDomain, noneWithoutSecure, badName, zeroLifetime] {
            #expect(throws: SessionError.self) {
                _ = try SessionKitMiddleware<BasicSessionKitRequestContext>(secret: Fixture.secret, configuration: configuration)
            }
            #expect(throws: SessionError.self) {
                _ = try SessionKitMiddleware<BasicSessionKitRequestContext>(store: MemorySessionStore(), configuration: configuration)
            }
        }
        #expect(throws: Never.self) { try SessionConfiguration().validate() }
        #expect(throws: Never.self) { try SessionConfiguration.flaskDefaults.validate() }
    }
}
