import Foundation
import Testing
@testable import SessionKit
import SessionKitTesting

@Suite("CookieJar")
struct CookieJarTests {
    let t0 = Date(timeIntervalSince1970: 1_577_836_800) // 2020-01-01

    func url(_ string: String) throws -> URL { try #require(URL(string: string)) }

    /// RFC 6265bis section 3.1.
    @Test func rfcExamples() throws {
        let now = Date(timeIntervalSince1970: 1_609_459_200) // 2021-01-01: June 2021 is within the 400-day cap
        var jar = CookieJar()
        let site = try url("https://example.com/")
        jar.receive(setCookie: "SID=31d4d96e407aad42", from: site, now: now)
        #expect(jar.cookieHeader(for: site, now: now) == "SID=31d4d96e407aad42")

        jar = CookieJar()
        jar.receive(setCookie: "SID=31d4d96e407aad42; Path=/; Secure; HttpOnly", from: site, now: now)
        jar.receive(setCookie: "lang=en-US; Path=/; Domain=example.com", from: site, now: now)
        #expect(jar.cookieHeader(for: site, now: now) == "SID=31d4d96e407aad42; lang=en-US")
        // The domain cookie reaches subdomains; the host-only SID does not.
        #expect(jar.cookieHeader(for: try url("https://www.example.com/"), now: now) == "lang=en-US")

        jar.receive(setCookie: "lang=en-US; Path=/; Domain=example.com; Expires=Wed, 09 Jun 2021 10:18:14 GMT", from: site, now: now)
        #expect(jar.cookieHeader(for: site, now: now) == "SID=31d4d96e407aad42; lang=en-US")
        #expect(jar["lang"]?.expiry == Date(timeIntervalSince1970: 1_623_233_894))
        // ...and after that date only SID is left.
        #expect(jar.cookieHeader(for: site, now: Date(timeIntervalSince1970: 1_623_233_894)) == "SID=31d4d96e407aad42")

        jar.receive(setCookie: "lang=; Path=/; Domain=example.com; Expires=Sun, 06 Nov 1994 08:49:37 GMT", from: site, now: now)
        #expect(jar.cookieHeader(for: site, now: now) == "SID=31d4d96e407aad42")
        #expect(jar["lang"] == nil)
    }

    @Test func hostOnlyVersusDomainCookies() throws {
        var jar = CookieJar()
        let www = try url("https://www.example.com/")
        do { let stored = jar.receive(setCookie: "host=1", from: www, now: t0); #expect(stored) }
        do { let stored = jar.receive(setCookie: "dom=2; Domain=.Example.com", from: www, now: t0); #expect(stored) }
        #expect(jar["host"]?.hostOnly == true)
        #expect(jar["host"]?.domain == "www.example.com")
        #expect(jar["dom"]?.hostOnly == false)
        #expect(jar["dom"]?.domain == "example.com")
        #expect(jar.cookieHeader(for: www, now: t0) == "host=1; dom=2")
        #expect(jar.cookieHeader(for: try url("https://WWW.EXAMPLE.COM/"), now: t0) == "host=1; dom=2")
        #expect(jar.cookieHeader(for: try url("https://example.com/"), now: t0) == "dom=2")
        #expect(jar.cookieHeader(for: try url("https://a.b.example.com/"), now: t0) == "dom=2")
        #expect(jar.cookieHeader(for: try url("https://sub.www.example.com/"), now: t0) == "dom=2")
        #expect(jar.cookieHeader(for: try url("https://notexample.com/"), now: t0) == nil)
        #expect(jar.cookieHeader(for: try url("https://example.com.evil.net/"), now: t0) == nil)
    }

    @Test func domainMustMatchTheHost() throws {
        var jar = CookieJar()
        do { let stored = jar.receive(setCookie: "a=1; Domain=other.com", from: try url("https://example.com/"), now: t0); #expect(!stored) }
        do { let stored = jar.receive(setCookie: "a=1; Domain=sub.example.com", from: try url("https://example.com/"), now: t0); #expect(!stored) }
        do { let stored = jar.receive(setCookie: "a=1; Domain=ample.com", from: try url("https://example.com/"), now: t0); #expect(!stored) }
        do { let stored = jar.receive(setCookie: "a=1; Domain=0.0.1", from: try url("https://127.0.0.1/"), now: t0); #expect(!stored) } // no suffix match on IPs
        do { let stored = jar.receive(setCookie: "a=1; Domain=127.0.0.1", from: try url("https://127.0.0.1/"), now: t0); #expect(stored) }
        #expect(jar.all.count == 1)
        #expect(CookieJar.domainMatches("www.example.com", "example.com"))
        #expect(!CookieJar.domainMatches("wwwexample.com", "example.com"))
        #expect(!CookieJar.domainMatches("example.com", "www.example.com"))
        #expect(!CookieJar.domainMatches("::1", ":1"))
    }

    @Test func defaultPathAndPathMatching() throws {
        #expect(CookieJar.defaultPath("") == "/")
        #expect(CookieJar.defaultPath("/") == "/")
        #expect(CookieJar.defaultPath("/docs") == "/")
        #expect(CookieJar.defaultPath("/docs/") == "/docs")
        #expect(CookieJar.defaultPath("/docs/a/b") == "/docs/a")
        #expect(CookieJar.defaultPath("docs/a") == "/")
        #expect(CookieJar.pathMatches("/docs", "/docs"))
        #expect(CookieJar.pathMatches("/docs/", "/docs"))
        #expect(CookieJar.pathMatches("/docs/web", "/docs"))
        #expect(CookieJar.pathMatches("/docs/web", "/docs/"))
        #expect(CookieJar.pathMatches("/anything", "/"))
        #expect(!CookieJar.pathMatches("/docsx", "/docs"))
        #expect(!CookieJar.pathMatches("/", "/docs"))
        #expect(!CookieJar.pathMatches("/Docs", "/docs")) // case-sensitive

        var jar = CookieJar()
        jar.receive(setCookie: "a=1", from: try url("https://example.com/docs/page?x=/y"), now: t0)
        #expect(jar["a"]?.path == "/docs")
        #expect(jar.cookieHeader(for: try url("https://example.com/docs"), now: t0) == "a=1")
        #expect(jar.cookieHeader(for: try url("https://example.com/docs/other"), now: t0) == "a=1")
        #expect(jar.cookieHeader(for: try url("https://example.com/"), now: t0) == nil)
        jar.receive(setCookie: "b=1; Path=relative", from: try url("https://example.com/x/y"), now: t0)
        #expect(jar["b"]?.path == "/x")
        jar.receive(setCookie: "c=1", from: try url("https://example.com/a%20b/c"), now: t0)
        #expect(jar["c"]?.path == "/a%20b")
    }

    @Test func secureCookiesNeedASecureOrigin() throws {
        var jar = CookieJar()
        do { let stored = jar.receive(setCookie: "s=1; Secure", from: try url("http://example.com/"), now: t0); #expect(!stored) }
        do { let stored = jar.receive(setCookie: "s=1; Secure", from: try url("https://example.com/"), now: t0); #expect(stored) }
        #expect(jar.cookieHeader(for: try url("http://example.com/"), now: t0) == nil)
        #expect(jar.cookieHeader(for: try url("https://example.com/"), now: t0) == "s=1")
        #expect(jar.cookieHeader(for: try url("wss://example.com/"), now: t0) == "s=1")
        // Loopback counts as a secure context, as in browsers.
        for host in ["http://localhost:8080/", "http://127.0.0.1/", "http://[::1]:8080/", "http://app.localhost/"] {
            var local = CookieJar()
            do { let stored = local.receive(setCookie: "s=1; Secure", from: try url(host), now: t0); #expect(stored, "\(host)") }
            #expect(local.cookieHeader(for: try url(host), now: t0) == "s=1", "\(host)")
        }
    }

    @Test func insecureOriginCannotShadowASecureCookie() throws {
        var jar = CookieJar()
        jar.receive(setCookie: "s=1; Secure; Path=/", from: try url("https://example.com/"), now: t0)
        do { let stored = jar.receive(setCookie: "s=2; Path=/", from: try url("http://example.com/"), now: t0); #expect(!stored) }
        do { let stored = jar.receive(setCookie: "s=2; Path=/sub", from: try url("http://example.com/"), now: t0); #expect(!stored) }
        do { let stored = jar.receive(setCookie: "t=2", from: try url("http://example.com/"), now: t0); #expect(stored) }
        #expect(jar["s"]?.value == "1")
        do { let stored = jar.receive(setCookie: "s=3", from: try url("https://example.com/"), now: t0); #expect(stored) } // a secure origin may
    }

    @Test func prefixesSameSiteNoneAndPartitioned() throws {
        var jar = CookieJar()
        let site = try url("https://example.com/app/page")
        do { let stored = jar.receive(setCookie: "__Secure-a=1", from: site, now: t0); #expect(!stored) }
        do { let stored = jar.receive(setCookie: "__Secure-a=1; Secure", from: site, now: t0); #expect(stored) }
        do { let stored = jar.receive(setCookie: "__Host-b=1; Secure", from: site, now: t0); #expect(!stored) }            // default path /app
        do { let stored = jar.receive(setCookie: "__Host-b=1; Secure; Path=/; Domain=example.com", from: site, now: t0); #expect(!stored) }
        do { let stored = jar.receive(setCookie: "__host-b=1; Path=/", from: site, now: t0); #expect(!stored) }            // case-insensitive
        do { let stored = jar.receive(setCookie: "__Host-b=1; Secure; Path=/", from: site, now: t0); #expect(stored) }
        do { let stored = jar.receive(setCookie: "__Host-x; Secure; Path=/", from: site, now: t0); #expect(!stored) }      // nameless, prefix in value
        do { let stored = jar.receive(setCookie: "n=1; SameSite=None", from: site, now: t0); #expect(!stored) }
        do { let stored = jar.receive(setCookie: "n=1; SameSite=None; Secure", from: site, now: t0); #expect(stored) }
        do { let stored = jar.receive(setCookie: "p=1; Partitioned", from: site, now: t0); #expect(!stored) }
        do { let stored = jar.receive(setCookie: "p=1; Partitioned; Secure", from: site, now: t0); #expect(stored) }
        #expect(jar.all.map(\.name) == ["__Secure-a", "__Host-b", "n", "p"])
    }

    @Test func replacementKeepsCreationTimeAndOrderIsLongestPathFirst() throws {
        var jar = CookieJar()
        let site = try url("https://example.com/")
        jar.receive(setCookie: "a=1; Path=/", from: site, now: t0)
        jar.receive(setCookie: "b=2; Path=/", from: site, now: t0.addingTimeInterval(1))
        jar.receive(setCookie: "a=3; Path=/", from: site, now: t0.addingTimeInterval(2))
        #expect(jar["a"]?.creation == t0)
        #expect(jar.cookieHeader(for: site, now: t0.addingTimeInterval(3)) == "a=3; b=2")
        jar.receive(setCookie: "c=4; Path=/docs", from: site, now: t0.addingTimeInterval(4))
        jar.receive(setCookie: "a=5; Path=/docs/web", from: site, now: t0.addingTimeInterval(5))
        let docs = try url("https://example.com/docs/web/x")
        #expect(jar.cookieHeader(for: docs, now: t0.addingTimeInterval(6)) == "a=5; c=4; a=3; b=2")
        // Same creation time: the order of first storage decides.
        var same = CookieJar()
        for name in ["z", "y", "x"] { same.receive(setCookie: "\(name)=1", from: site, now: t0) }
        #expect(same.cookieHeader(for: site, now: t0) == "z=1; y=1; x=1")
        // A host-only and a domain cookie with the same name and path are distinct.
        same.receive(setCookie: "z=2; Domain=example.com", from: site, now: t0)
        #expect(same.cookies(named: "z").count == 2)
    }

    @Test func expiry() throws {
        var jar = CookieJar()
        let site = try url("https://example.com/")
        do { let stored = jar.receive(setCookie: "a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60", from: site, now: t0); #expect(stored) } // Max-Age wins
        #expect(jar["a"]?.expiry == t0.addingTimeInterval(60))
        do { let stored = jar.receive(setCookie: "b=1; Max-Age=-1; Expires=Fri, 31 Dec 9999 23:59:59 GMT", from: site, now: t0); #expect(!stored) }
        #expect(jar["b"] == nil)
        #expect(jar.cookieHeader(for: site, now: t0.addingTimeInterval(59)) == "a=1")
        #expect(jar.cookieHeader(for: site, now: t0.addingTimeInterval(60)) == nil)
        // Deletion of a stored cookie.
        jar.receive(setCookie: "s=1", from: site, now: t0)
        #expect(jar["s"]?.expiry == nil) // a session cookie
        do { let stored = jar.receive(setCookie: "s=; Max-Age=0", from: site, now: t0); #expect(!stored) }
        #expect(jar["s"] == nil)
        // 400-day cap.
        jar.receive(setCookie: "long=1; Max-Age=999999999", from: site, now: t0)
        #expect(jar["long"]?.expiry == t0.addingTimeInterval(400 * 86_400))
        jar.receive(setCookie: "long2=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT", from: site, now: t0)
        #expect(jar["long2"]?.expiry == t0.addingTimeInterval(400 * 86_400))
        jar.removeExpired(now: t0.addingTimeInterval(61))
        #expect(jar["a"] == nil)
        jar.removeAll()
        #expect(jar.all.isEmpty)
    }

    /// A login flow end to end: our SetCookie -> the jar -> the Cookie header -> RequestCookies.
    @Test func drivesALoginFlow() throws {
        var jar = CookieJar()
        let login = try url("https://app.example.com/login")
        let session = try SetCookie(name: "__Host-session", value: "abc.def", maxAge: 3600, secure: true, httpOnly: true, sameSite: .lax)
        let note = try SetCookie(name: "note", value: "hello, world; \"x\"", path: "/", valueEncoding: .werkzeug)
        jar.receive(setCookies: [session.headerValue, note.headerValue], from: login, now: t0)
        let header = try #require(jar.cookieHeader(for: try url("https://app.example.com/account"), now: t0))
        let cookies = RequestCookies(header: header, decoding: .werkzeug)
        #expect(cookies["__Host-session"] == "abc.def")
        #expect(cookies["note"] == "hello, world; \"x\"")
        jar.receive(setCookie: session.deletion().headerValue, from: try url("https://app.example.com/logout"), now: t0)
        #expect(jar.cookieHeader(for: try url("https://app.example.com/account"), now: t0) == note.name + "=" + note.writtenValue)
    }
}
