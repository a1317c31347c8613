import Foundation
import NIOCore
import SessionKit
import SessionKitVapor
import Testing
import Vapor
import VaporTesting

/// The native middleware with cookie sessions: the tutorial, the commit rules, tampering, rotation.
@Suite("SessionKitVaporMiddleware, cookie sessions")
struct VaporMiddlewareTests {
    static func configure(
        format: CookieSessionFormat = .encrypted,
        secret: SessionSecret = Fixture.secret,
        previous: [SessionSecret] = [],
        configuration: SessionConfiguration = SessionConfiguration(),
        clock: TestClock = TestClock()
    ) -> (Application) async throws -> Void {
        { app in
            app.middleware.use(try SessionKitVaporMiddleware(secret: secret, previousSecrets: previous, format: format, configuration: configuration, clock: clock.function))
            Fixture.routes(app)
        }
    }

    @Test(arguments: [CookieSessionFormat.encrypted, .signed, .flask])
    func tutorialFlow(format: CookieSessionFormat) async throws {
        try await withTestApp(Self.configure(format: format)) { app in
            let browser = Browser(app)
            var response = try await browser.get("get")
            #expect(response.text == "")
            #expect(response.setCookies.isEmpty, "a read-only request sends no Set-Cookie")
            #expect(response.headers[.vary] == ["Cookie"])

            response = try await browser.get("set")
            #expect(response.text == "success")
            let setCookie = try #require(response.setCookies.first)
            #expect(setCookie.hasPrefix("session="))
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("Path=/") && setCookie.contains("SameSite=Lax"))
            #expect(!setCookie.contains("Expires"))
            #expect(response.headers.first(name: .cacheControl) == "no-store", "a response handing out a new session is not cached")

            response = try await browser.get("get")
            #expect(response.text == "liefyuan")
            #expect(response.setCookies.isEmpty)

            // pop
            response = try await browser.get("pop")
            #expect(response.text == "liefyuan")
            #expect(response.setCookies.first?.contains("Max-Age=0") == true, "an emptied session deletes its cookie")
            #expect(try await browser.get("get").text == "")

            // clear
            try await browser.get("set?username=bob")
            #expect(try await browser.get("get").text == "bob")
            response = try await browser.get("clear")
            #expect(response.setCookies.first?.contains("Max-Age=0") == true)
            #expect(browser.cookie("session") == nil)

            // permanent
            response = try await browser.get("permanent")
            #expect(response.setCookies.first?.contains("Expires=") == true)
            #expect(try await browser.get("get").text == "perm")

            // flash: shown once
            try await browser.get("flash?message=saved")
            #expect(try await browser.get("flashes").text == "info:saved")
            #expect(try await browser.get("flashes").text == "")

            // login / logout
            try await browser.get("login?user=alice")
            #expect(try await browser.get("whoami").text == "alice")
            response = try await browser.get("logout")
            #expect(response.setCookies.first?.contains("Max-Age=0") == true)
            #expect(try await browser.get("whoami").text == "")
            #expect(try await browser.get("get").text == "")
        }
    }

    @Test func readOnlyAndUntouchedRequestsSendNoCookie() async throws {
        try await withTestApp(Self.configure()) { app in
            let browser = Browser(app)
            try await browser.get("set")
            var response = try await browser.get("noop")
            #expect(response.setCookies.isEmpty)
            #expect(response.headers[.vary].isEmpty, "a request that never used the session does not vary on it")
            #expect(response.headers.first(name: .cacheControl) == nil)
            response = try await browser.get("get")
            #expect(response.setCookies.isEmpty)
            #expect(response.headers[.vary] == ["Cookie"])
        }
    }

    @Test func varyNamesCookieOnceBesideWhatTheHandlerSet() async throws {
        try await withTestApp(Self.configure()) { app in
            let response = try await send(app, "vary")
            #expect(response.headers[.vary] == ["Accept-Encoding", "Cookie"])
            #expect(response.status == .ok)
        }
    }

    @Test func requireOnAMissingKeyIsAnErrorNotACrash() async throws {
        try await withTestApp(Self.configure()) { app in
            let response = try await send(app, "require")
            #expect(response.status.code >= 400)
        }
    }

    @Test(arguments: [CookieSessionFormat.encrypted, .signed, .flask])
    func tamperingGivesAFreshEmptySessionNeverA500(format: CookieSessionFormat) async throws {
        try await withTestApp(Self.configure(format: format)) { app in
            let value = try #require(try await send(app, "set").cookiePair("session")).dropFirst("session=".count)
            try #require(value.count > 20)
            #expect(try await send(app, "get", cookie: "session=\(value)").text == "liefyuan")
            // Every bit of a few positions, and the last character.
            var positions = Array(stride(from: 0, to: value.count, by: max(1, value.count / 10)))
            positions.append(value.count - 1)
            for position in positions {
                for bit in 0..<6 {
                    var bytes = Array(value.utf8)
                    bytes[position] ^= UInt8(1 << bit)
                    guard let tampered = String(bytes: bytes, encoding: .utf8), tampered.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != ";" && $0 != "," }) else { continue }
                    let response = try await send(app, "get", cookie: "session=\(tampered)")
                    #expect(response.status == .ok, "tampered at \(position), bit \(bit)")
                    // Flask's signature ends in a base64 character whose low bits are padding: a
                    // change there decodes to the same signature, which Flask (itsdangerous) accepts too.
                    if format == .flask, position == value.count - 1, response.text == "liefyuan" { continue }
                    #expect(response.text == "", "tampered at \(position), bit \(bit)")
                    #expect(response.setCookies.isEmpty)
                }
            }
            for garbage in ["", "x", "a.b.c", String(repeating: "A", count: 5000), "%%%", "..", "ey.."] {
                let response = try await send(app, "get", cookie: "session=\(garbage)")
                #expect(response.status == .ok)
                #expect(response.text == "")
            }
        }
    }

    @Test func keyRotationReadsOldCookiesAndReissuesUnderTheNewKey() async throws {
        let clock = TestClock()
        let oldCookie = try await withTestApp(Self.configure(secret: Fixture.oldSecret, clock: clock)) { app in
            try #require(try await send(app, "set").cookiePair("session"))
        }
        let reissued = try await withTestApp(Self.configure(secret: Fixture.secret, previous: [Fixture.oldSecret], clock: clock)) { app in
            let response = try await send(app, "get", cookie: oldCookie)
            #expect(response.text == "liefyuan")
            return try #require(response.cookiePair("session"), "a cookie under an old key is re-issued")
        }
        #expect(reissued != oldCookie)
        try await withTestApp(Self.configure(secret: Fixture.secret, clock: clock)) { app in
            let response = try await send(app, "get", cookie: reissued)
            #expect(response.text == "liefyuan", "the new cookie verifies under the new key alone")
            #expect(try await send(app, "get", cookie: oldCookie).text == "", "without the old key the old cookie is dead")
        }
    }

    @Test func oversizeSessionAnswers500AndSendsNoCookie() async throws {
        try await withTestApp(Self.configure()) { app in
            let small = try await send(app, "big?size=100")
            #expect(small.status == .ok)
            let big = try await send(app, "big?size=6000")
            #expect(big.status == .internalServerError)
            #expect(big.setCookies.isEmpty)
        }
    }

    @Test func errorCommitPolicyCommitsOn4xxNotOn5xx() async throws {
        try await withTestApp(Self.configure()) { app in
            let browser = Browser(app)
            let failed = try await browser.get("fail4xx")
            #expect(failed.status == .unprocessableEntity)
            #expect(failed.setCookies.count == 1, "the flash of a 4xx is kept")
            #expect(try await browser.get("flashes").text == "message:try again")
            let crashed = try await browser.get("fail5xx")
            #expect(crashed.status == .internalServerError)
            #expect(crashed.setCookies.isEmpty, "nothing of a 5xx is kept")
        }
    }

    @Test func cookiesAreParsedOnce() async throws {
        try await withTestApp(Self.configure()) { app in
            let response = try await send(app, "cookies", cookie: "user=a; theme=dark; user=b")
            #expect(response.text == "a|b")
        }
    }

    @Test func deletionEchoesTheCookieAttributes() async throws {
        var configuration = SessionConfiguration()
        configuration.cookie.name = "__Host-sid"
        configuration.cookie.sameSite = .strict
        try await withTestApp(Self.configure(configuration: configuration)) { app in
            let browser = Browser(app)
            try await browser.get("set")
            let response = try await browser.get("clear")
            #expect(response.setCookies == ["__Host-sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; Path=/; SameSite=Strict"])
        }
    }

    @Test func aShortSecretIsAClearStartupError() {
        #expect(throws: (any Error).self) { try SessionKitVaporMiddleware(secret: SessionSecret(text: "short")) }
    }
}
