import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SessionKit
import SessionKitDemoApp
import SessionKitDemoSupport
import SessionKitHummingbird
import SessionKitHummingbirdTesting
import Testing

/// The demo app end to end: the route contract of Flask's reference app, and the HTML pages.
@Suite("Demo app")
struct DemoAppTests {
    static func app(flask: Bool = false, clock: TestClock = TestClock()) throws -> some ApplicationProtocol {
        let options = DemoOptions(secret: flask ? SessionSecret(text: "dev-secret-key") : Fixture.secret, flaskCompatible: flask, clock: clock.function)
        return Application(router: try DemoRouter.build(options: options))
    }

    @Test(arguments: [false, true])
    func routeContract(flask: Bool) async throws {
        let clock = TestClock()
        try await Self.app(flask: flask, clock: clock).test(.router) { client in
            let browser = SessionTestClient(client, origin: URL(string: "http://127.0.0.1:8080")!, clock: clock.function)
            func body(_ uri: String) async throws -> String { String(buffer: try await browser.execute(uri: uri).body) }
            #expect(try await body("/get") == "not set")
            #expect(try await body("/?username=alice") == "Session set")
            #expect(try await body("/get") == "alice")
            #expect(try await body("/counter") == "1")
            #expect(try await body("/counter") == "2")
            #expect(try await body("/delete/") == "deleted")
            #expect(try await body("/get") == "not set")
            #expect(try await body("/counter") == "3")
            #expect(try await body("/clear") == "cleared")
            #expect(try await body("/counter") == "1")
            let login = try await browser.execute(uri: "/login", method: .post, form: [("username", "bob")])
            #expect(String(buffer: login.body) == "logged in as bob")
            #expect(login.headers[.setCookie]?.contains("Expires=") == true)
            #expect(login.headers[.contentType] == "text/html; charset=utf-8")
            #expect(try await body("/get") == "bob")
        }
    }

    @Test func plainCookieRoutes() async throws {
        try await Self.app().test(.router) { client in
            let browser = SessionTestClient(client, origin: URL(string: "http://127.0.0.1:8080")!)
            #expect(String(buffer: try await browser.execute(uri: "/cookie/get").body) == "no cookie")
            let set = try await browser.execute(uri: "/cookie/set?value=hello%20world;x&max_age=120")
            let header = try #require(set.headers[.setCookie])
            #expect(header.hasPrefix(#"user="hello world\073x"; Expires="#))
            #expect(header.hasSuffix("; Max-Age=120; Path=/"))
            #expect(String(buffer: try await browser.execute(uri: "/cookie/get").body) == "hello world;x")
            let deleted = try await browser.execute(uri: "/cookie/delete")
            #expect(deleted.headers[.setCookie] == "user=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/")
            #expect(String(buffer: try await browser.execute(uri: "/cookie/get").body) == "no cookie")
        }
    }

    /// Every value a client controls ends in a clear 4xx, never a 500 (the audit's finding 10).
    @Test func absurdMaxAgesAreTheClientsError() async throws {
        try await Self.app().test(.router) { client in
            for maxAge in ["9223372036854775807", "-9223372036854775808", "1000000000000", "99999999999999999999", "12abc", ""] {
                let response = try await client.execute(uri: "/cookie/set?max_age=\(maxAge)", method: .get)
                #expect(response.status == .badRequest, "max_age=\(maxAge): \(response.status)")
                #expect(response.headers[.setCookie] == nil)
            }
        }
    }

    @Test func flaskCompatibleHeadersMatchFlask() async throws {
        try await Self.app(flask: true).test(.router) { client in
            let set = try await client.execute(uri: "/?username=alice", method: .get)
            let header = try #require(set.headers[.setCookie])
            #expect(header.hasPrefix("session=eyJ1c2VybmFtZSI6ImFsaWNlIn0."))
            #expect(header.hasSuffix("; HttpOnly; Path=/"))
            #expect(set.headers[.vary] == "Cookie")
            let clear = try await client.execute(uri: "/clear", method: .get)
            #expect(clear.headers[.setCookie] == "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/")
        }
    }

    @Test func loginCartLogoutPages() async throws {
        let clock = TestClock()
        try await Self.app(clock: clock).test(.router) { client in
            let browser = SessionTestClient(client, origin: URL(string: "http://127.0.0.1:8080")!, clock: clock.function)
            var page = String(buffer: try await browser.execute(uri: "/app").body)
            #expect(page.contains("You are not logged in"))
            let login = try await browser.execute(uri: "/app/login", form: [("username", "alice <script>")])
            #expect(login.status == .seeOther)
            page = String(buffer: try await browser.execute(uri: "/app").body)
            #expect(page.contains("Hello, alice &lt;script&gt;!"))
            #expect(page.contains("Welcome, alice &lt;script&gt;! You are logged in."))
            #expect(!page.contains("<script>"))
            // The flash shows once.
            page = String(buffer: try await browser.execute(uri: "/app").body)
            #expect(!page.contains("Welcome"))
            try await browser.execute(uri: "/app/cart/add", form: [("item", "apple")])
            try await browser.execute(uri: "/app/cart/add", form: [("item", "apple")])
            try await browser.execute(uri: "/app/cart/add", form: [("item", "tea")])
            page = String(buffer: try await browser.execute(uri: "/app/cart").body)
            #expect(page.contains(#"<td class="name">apple</td><td class="quantity">2</td>"#))
            try await browser.execute(uri: "/app/cart/remove", form: [("item", "apple")])
            page = String(buffer: try await browser.execute(uri: "/app").body)
            #expect(page.contains(#"<strong id="cart-count">2</strong>"#))
            let unknown = try await browser.execute(uri: "/app/cart/add", form: [("item", "caviar")])
            #expect(unknown.status == .badRequest)
            try await browser.execute(uri: "/app/logout", form: [])
            page = String(buffer: try await browser.execute(uri: "/app").body)
            #expect(page.contains("Goodbye, alice &lt;script&gt;. You are logged out."))
            #expect(page.contains("You are not logged in"))
            #expect(page.contains(#"<strong id="cart-count">0</strong>"#))
        }
    }
}
