import Foundation
import Testing
@testable import SessionKit
import SessionKitTesting

/// The usage examples in the doc comments, so that they stay true.
@Suite("Cookie doc examples")
struct CookieDocExampleTests {
    @Test func examples() throws {
        let cookie = try SetCookie(name: "theme", value: "dark", maxAge: 3600, secure: true, httpOnly: true, sameSite: .lax)
        #expect(cookie.headerValue == "theme=dark; Max-Age=3600; Secure; HttpOnly; Path=/; SameSite=Lax")
        #expect(cookie.deletion().headerValue == "theme=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; Path=/; SameSite=Lax")
        #expect(try SetCookie(name: "note", value: "a;b", valueEncoding: .werkzeug).headerValue == #"note="a\073b"; Path=/"#)
        #expect(try SetCookie(name: "note", value: "hello, world", valueEncoding: .werkzeug).writtenValue == #""hello\054 world""#)
        #expect(try SetCookie(name: "session", value: "x", priority: .high).headerValue == "session=x; Path=/; Priority=High")
        expectCookieError(.prefixViolation) { try SetCookie(name: "__Host-id", value: "abc", path: "/app") }
        #expect(try SetCookie.werkzeug(name: "user", value: "a b", maxAge: 60, now: Date(timeIntervalSince1970: 0)).headerValue
            == #"user="a b"; Expires=Thu, 01 Jan 1970 00:01:00 GMT; Max-Age=60; Path=/"#)

        let parsed = try #require(SetCookie(parsing: "id=abc; path=/; SECURE; samesite=lax; Max-Age=60; Foo=bar"))
        #expect(parsed.sameSite == .lax)
        #expect(parsed.extensions == ["Foo=bar"])

        let cookies = RequestCookies(header: "session=abc; theme=dark; session=old")
        #expect(cookies["session"] == "abc")
        #expect(cookies.all("session") == ["abc", "old"])
        #expect(RequestCookies(header: #"a="x\073y""#, decoding: .werkzeug)["a"] == "x;y")

        #expect(CookieDate.format(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(CookieDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == CookieDate.parse("Sun Nov  6 08:49:37 1994"))
        #expect(Punycode.encode("bücher") == "bcher-kva")

        var jar = CookieJar()
        let now = Date()
        jar.receive(setCookie: "id=abc; Path=/; HttpOnly", from: try #require(URL(string: "https://example.com/login")), now: now)
        #expect(jar.cookieHeader(for: try #require(URL(string: "https://example.com/account")), now: now) == "id=abc")
        #expect(jar["id"]?.value == "abc")
    }
}
