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

/// The demo is what people copy, so it is a safe web application (the audit's finding 11): what it
/// echoes is HTML-escaped, a request that changes state is refused when a browser sent it for
/// another site, and every response carries the security headers.
@Suite("Demo app, web safety")
struct DemoWebSafetyTests {
    /// The router test framework sends requests for `http://localhost`.
    static let origin = URL(string: "http://localhost")!

    static func app(flask: Bool = false, storage: DemoStorage = .cookie, clock: TestClock) async throws -> some ApplicationProtocol {
        let options = DemoOptions(secret: flask ? SessionSecret(text: "dev-secret-key") : Fixture.secret, flaskCompatible: flask, storage: storage, clock: clock.function)
        return Application(router: try await DemoApp(options: options).router)
    }

    static func fields(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return fields
    }

    static func form(_ body: String, _ pairs: [(String, String)] = []) -> (HTTPFields, ByteBuffer) {
        (fields([("Content-Type", "application/x-www-form-urlencoded")] + pairs), ByteBuffer(string: body))
    }

    // MARK: escaping

    @Test(arguments: [false, true])
    func echoedValuesAreEscaped(flask: Bool) async throws {
        let clock = TestClock()
        try await Self.app(flask: flask, clock: clock).test(.router) { client in
            let browser = SessionTestClient(client, origin: Self.origin, clock: clock.function)
            func body(_ uri: String) async throws -> String { String(buffer: try await browser.execute(uri: uri).body) }
            #expect(try await body("/?username=%3Cscript%3E") == "Session set")
            #expect(try await body("/get") == "&lt;script&gt;")
            #expect(try await body("/?username=%3Cimg%20src%3Dx%20onerror%3D%22a('b')%22%3E%26") == "Session set")
            #expect(try await body("/get") == "&lt;img src=x onerror=&#34;a(&#39;b&#39;)&#34;&gt;&amp;")

            let (headers, form) = Self.form("username=%3Cb%3E%22Tom%22+%26+'Jerry'%3C%2Fb%3E")
            let login = try await browser.execute(uri: "/login", method: .post, headers: headers, body: form)
            #expect(String(buffer: login.body) == "logged in as &lt;b&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39;&lt;/b&gt;")
            #expect(login.headers[.contentType] == "text/html; charset=utf-8")
            #expect(try await body("/get") == "&lt;b&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39;&lt;/b&gt;")

            let cookie = try await client.execute(uri: "/cookie/get", method: .get, headers: Self.fields([("Cookie", "user=<svg/onload=alert(1)>")]))
            #expect(String(buffer: cookie.body) == "&lt;svg/onload=alert(1)&gt;")
            // Ordinary values are the bytes Flask's reference app answers.
            #expect(try await body("/?username=alice") == "Session set")
            #expect(try await body("/get") == "alice")
        }
    }

    // MARK: cross-site requests

    /// Every route that changes state, as a browser would send it: method, path, form body.
    static let changes: [(HTTPRequest.Method, String, String?)] = [
        (.get, "/?username=mallory", nil), (.get, "/delete/", nil), (.get, "/clear", nil), (.get, "/counter", nil),
        (.get, "/cookie/set?value=mallory", nil), (.get, "/cookie/delete", nil), (.get, "/typed/set", nil),
        (.post, "/login", "username=mallory"), (.post, "/app/login", "username=mallory"), (.post, "/app/logout", ""),
        (.post, "/app/cart/add", "item=bread"), (.post, "/app/cart/remove", "item=apple"),
        (.post, "/app/sessions/revoke", "session=00"), (.post, "/app/sessions/revoke-others", ""),
    ]

    /// What a browser sends when another site makes it request the demo.
    static let crossSite: [[(String, String)]] = [
        [("Sec-Fetch-Site", "cross-site")],
        [("Sec-Fetch-Site", "same-site")],                         // another port or subdomain of the host
        [("Sec-Fetch-Site", "cross-site"), ("Origin", "http://evil.example")],
        [("Origin", "http://evil.example")],                       // an older browser: Origin only
        [("Origin", "http://localhost:8081")],                     // the same host, another port
        [("Origin", "https://localhost.evil.example")],
        [("Origin", "null")],                                      // a sandboxed frame
        [("Sec-Fetch-Site", "same-origin"), ("Origin", "http://evil.example")],
    ]

    static func send(_ client: SessionTestClient, _ change: (HTTPRequest.Method, String, String?), _ extra: [(String, String)]) async throws -> TestResponse {
        let (method, uri, body) = change
        if let body {
            let (headers, form) = Self.form(body, extra)
            return try await client.execute(uri: uri, method: method, headers: headers, body: form)
        }
        return try await client.execute(uri: uri, method: method, headers: Self.fields(extra))
    }

    @Test(arguments: [DemoStorage.cookie, .memory])
    func crossSiteRequestsAreRefused(storage: DemoStorage) async throws {
        let clock = TestClock()
        try await Self.app(storage: storage, clock: clock).test(.router) { client in
            let browser = SessionTestClient(client, origin: Self.origin, clock: clock.function)
            let (headers, form) = Self.form("username=alice")
            try await browser.execute(uri: "/app/login", method: .post, headers: headers, body: form)
            let (cartHeaders, cartForm) = Self.form("item=apple")
            try await browser.execute(uri: "/app/cart/add", method: .post, headers: cartHeaders, body: cartForm)
            let cartBefore = String(buffer: try await browser.execute(uri: "/app/cart").body)
            #expect(cartBefore.contains(#"<td class="name">apple</td><td class="quantity">1</td>"#))
            let before = browser.jar

            for change in Self.changes {
                for attack in Self.crossSite {
                    let response = try await Self.send(browser, change, attack)
                    #expect(response.status == .forbidden, "\(change.0) \(change.1) with \(attack): \(response.status)")
                    #expect(response.headers[.setCookie] == nil, "\(change.0) \(change.1) with \(attack)")
                    #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
                    #expect(String(buffer: response.body).hasPrefix("403 Forbidden: "), "\(change.0) \(change.1)")
                    #expect(response.headers[.contentSecurityPolicy] != nil)
                }
            }
            // The session is what it was: the same cookie, the same user, the same cart.
            #expect(browser.jar == before)
            #expect(String(buffer: try await browser.execute(uri: "/get").body) == "alice")
            let cartAfter = String(buffer: try await browser.execute(uri: "/app/cart").body)
            #expect(cartAfter.contains(#"<strong id="who">alice</strong>"#))
            #expect(cartAfter.contains(#"<td class="name">apple</td><td class="quantity">1</td>"#))
            #expect(!cartAfter.contains(#"<td class="name">bread</td>"#))
        }
    }

    /// The demo's own pages (same-origin), an address typed by the user (`Sec-Fetch-Site: none`),
    /// and clients that are no browser (no such headers: curl, Python requests) are served.
    @Test func sameOriginAndNonBrowserRequestsAreAccepted() async throws {
        let sameOrigin: [[(String, String)]] = [
            [],
            [("Sec-Fetch-Site", "same-origin")],
            [("Sec-Fetch-Site", "same-origin"), ("Origin", "http://localhost")],
            [("Origin", "http://localhost:80")],
            [("Origin", "HTTP://LOCALHOST")],
        ]
        let clock = TestClock()
        try await Self.app(clock: clock).test(.router) { client in
            for headers in sameOrigin {
                let browser = SessionTestClient(client, origin: Self.origin, clock: clock.function)
                for change in Self.changes where change.1 != "/app/sessions/revoke" {
                    let response = try await Self.send(browser, change, headers)
                    #expect(response.status != .forbidden, "\(change.0) \(change.1) with \(headers)")
                }
                let (form, body) = Self.form("username=alice", headers)
                let login = try await browser.execute(uri: "/app/login", method: .post, headers: form, body: body)
                #expect(login.status == .seeOther)
                let (cartHeaders, cartBody) = Self.form("item=tea", headers)
                let add = try await browser.execute(uri: "/app/cart/add", method: .post, headers: cartHeaders, body: cartBody)
                #expect(add.status == .seeOther)
                let cart = String(buffer: try await browser.execute(uri: "/app/cart").body)
                #expect(cart.contains(#"<strong id="who">alice</strong>"#), "\(headers)")
                #expect(cart.contains(#"<td class="name">tea</td><td class="quantity">1</td>"#), "\(headers)")
            }
            // A typed address or a bookmark.
            let typed = try await client.execute(uri: "/?username=bob", method: .get, headers: Self.fields([("Sec-Fetch-Site", "none")]))
            #expect(typed.status == .ok)
            #expect(typed.headers[.setCookie] != nil)
            // Reading is never refused: a link from another site may open a page.
            for uri in ["/get", "/app", "/app/cart", "/app/login", "/cookie/get", "/login"] {
                let response = try await client.execute(uri: uri, method: .get, headers: Self.fields([("Sec-Fetch-Site", "cross-site")]))
                #expect(response.status == .ok, "\(uri)")
            }
        }
    }

    // MARK: security headers

    @Test func securityHeadersOnEveryResponse() async throws {
        try await Self.app(clock: TestClock()).test(.router) { client in
            let requests: [(String, HTTPRequest.Method, HTTPFields, HTTPResponse.Status)] = [
                ("/app", .get, [:], .ok),
                ("/app/demo.css", .get, [:], .ok),
                ("/get", .get, [:], .ok),
                ("/typed/get", .get, [:], .ok),
                ("/cookie/set?max_age=x", .get, [:], .badRequest),
                ("/no/such/page", .get, [:], .notFound),
                ("/app/logout", .post, [:], .seeOther),
                ("/clear", .get, Self.fields([("Sec-Fetch-Site", "cross-site")]), .forbidden),
            ]
            for (uri, method, headers, status) in requests {
                let response = try await client.execute(uri: uri, method: method, headers: headers)
                #expect(response.status == status, "\(uri)")
                let policy = try #require(response.headers[.contentSecurityPolicy], "\(uri)")
                #expect(policy.contains("default-src 'self'"))
                #expect(policy.contains("frame-ancestors 'none'"))
                #expect(!policy.contains("unsafe-inline"))
                #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin", "\(uri)")
            }
            // The pages need nothing inline: no <script>, no <style>, no style= or on...= attribute.
            let page = String(buffer: try await client.execute(uri: "/app", method: .get).body)
            #expect(page.contains(#"<link rel="stylesheet" href="/app/demo.css">"#))
            for forbidden in ["<script", "<style", " style=", " onload=", " onclick="] {
                #expect(!page.contains(forbidden), "\(forbidden)")
            }
            let css = try await client.execute(uri: "/app/demo.css", method: .get)
            #expect(css.headers[.contentType] == "text/css; charset=utf-8")
            #expect(String(buffer: css.body).contains("font-family"))
        }
    }
}
