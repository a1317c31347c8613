import Foundation
import Testing
@testable import SessionKit
import SessionKitTesting

@Suite("SetCookie")
struct SetCookieTests {
    @Test func defaults() throws {
        #expect(try SetCookie(name: "id", value: "abc").headerValue == "id=abc; Path=/")
        #expect(try SetCookie(name: "id", value: "", path: nil).headerValue == "id=")
        #expect(try SetCookie(name: "id", value: #""quoted""#).headerValue == #"id="quoted"; Path=/"#)
    }

    @Test func attributeOrderIsWerkzeugs() throws {
        let cookie = try SetCookie(
            name: "user", value: "v", expires: Date(timeIntervalSince1970: 1_893_456_000), maxAge: 120,
            domain: "example.com", path: "/p", secure: true, httpOnly: true, sameSite: .strict, partitioned: true,
            priority: .high, extensions: ["Foo=bar", "Baz"]
        )
        #expect(cookie.headerValue == "user=v; Domain=example.com; Expires=Tue, 01 Jan 2030 00:00:00 GMT; Max-Age=120; Secure; HttpOnly; Path=/p; SameSite=Strict; Partitioned; Priority=High; Foo=bar; Baz")
    }

    @Test func maxAgeDoesNotInventExpires() throws {
        #expect(try SetCookie(name: "a", value: "b", maxAge: 60).headerValue == "a=b; Max-Age=60; Path=/")
        #expect(try SetCookie(name: "a", value: "b", maxAge: -1).headerValue == "a=b; Max-Age=-1; Path=/")
    }

    @Test func leadingDotOfDomainIsDropped() throws {
        let cookie = try SetCookie(name: "a", value: "b", domain: ".Example.com")
        #expect(cookie.domain == "Example.com")
        #expect(cookie.headerValue == "a=b; Domain=Example.com; Path=/")
    }

    @Test func werkzeugValueEncoding() throws {
        func header(_ value: String) throws -> String { try SetCookie(name: "u", value: value, path: nil, valueEncoding: .werkzeug).headerValue }
        #expect(try header("plain-YWJj==") == "u=plain-YWJj==")
        #expect(try header("") == "u=")
        #expect(try header("hello world") == #"u="hello world""#)
        #expect(try header("a;b,c") == #"u="a\073b\054c""#)
        #expect(try header(#"say "hi" \"#) == #"u="say \"hi\" \\""#)
        #expect(try header("用") == #"u="\347\224\250""#)
        #expect(try header("\u{0}\u{19}\u{1A}\u{1F}\u{7F}") == "u=\"\\000\\031\u{1A}\u{1F}\\177\"") // 0x1A-0x1F stay raw
        let cookie = try SetCookie(name: "u", value: "a b", valueEncoding: .werkzeug)
        #expect(cookie.value == "a b")
        #expect(cookie.writtenValue == #""a b""#)
    }

    // MARK: - Rejections, one per rule

    @Test(arguments: ["", "a b", "a;b", "a=b", "a,b", "a\"b", "ключ", "a\u{0}", "(x)", "a/b", "a@b", "{x}"])
    func invalidNames(name: String) {
        expectCookieError(.invalidName) { try SetCookie(name: name, value: "v") }
    }

    @Test func tokenNamesAreAccepted() throws {
        #expect(try SetCookie(name: "!#$%&'*+-.^_`|~Az09", value: "v").name == "!#$%&'*+-.^_`|~Az09")
    }

    @Test(arguments: ["a b", "a;b", "a,b", "a\\b", "a\"b", "\"ab", "ab\"", "\"", "é", "a\tb", "\"a b\""])
    func invalidStrictValues(value: String) {
        expectCookieError(.invalidValue) { try SetCookie(name: "n", value: value) }
    }

    @Test func strictValuesAccepted() throws {
        let octets = String(decoding: (0x21...0x7E).filter { ![0x22, 0x2C, 0x3B, 0x5C].contains($0) }.map { UInt8($0) }, as: UTF8.self)
        #expect(try SetCookie(name: "n", value: octets).value == octets)
        #expect(try SetCookie(name: "n", value: "\"\(octets)\"").value == "\"\(octets)\"")
        #expect(try SetCookie(name: "n", value: "\"\"").value == "\"\"")
    }

    @Test(arguments: [
        "https://example.com", "example.com/", "example.com:8080", "exa mple.com", "", ".", "..example.com",
        "example..com", "example.com.", "bücher.de", "a;b.com", "[::1]", String(repeating: "a", count: 64) + ".com",
    ])
    func invalidDomains(domain: String) {
        expectCookieError(.invalidDomain) { try SetCookie(name: "n", value: "v", domain: domain) }
    }

    @Test func validDomains() throws {
        for domain in ["localhost", "127.0.0.1", "xn--bcher-kva.de", "a-b_c.example.co.uk", String(repeating: "a", count: 63) + ".com"] {
            #expect(try SetCookie(name: "n", value: "v", domain: domain).domain == domain)
        }
    }

    @Test(arguments: ["", "app", "/a;b", "/a\u{0}", "/a\u{7F}", "/ü", "/a\nb", "/a "])
    func invalidPaths(path: String) {
        expectCookieError(.invalidPath) { try SetCookie(name: "n", value: "v", path: path) }
    }

    @Test func sizeLimits() throws {
        _ = try SetCookie(name: "n", value: String(repeating: "x", count: 4095))
        expectCookieError(.tooLarge) { try SetCookie(name: "n", value: String(repeating: "x", count: 4096)) }
        // The written (quoted) size counts: 1400 commas become 5600 bytes.
        expectCookieError(.tooLarge) { try SetCookie(name: "n", value: String(repeating: ",", count: 1400), valueEncoding: .werkzeug) }
        _ = try SetCookie(name: "n", value: "v", path: "/" + String(repeating: "p", count: 1023))
        expectCookieError(.tooLarge) { try SetCookie(name: "n", value: "v", path: "/" + String(repeating: "p", count: 1024)) }
        expectCookieError(.tooLarge) { try SetCookie(name: "n", value: "v", extensions: [String(repeating: "e", count: 1025)]) }
        expectCookieError(.tooLarge) { try SetCookie(name: "n", value: "v", domain: String(repeating: "a.", count: 600) + "com") }
    }

    @Test func prefixRules() throws {
        expectCookieError(.prefixViolation) { try SetCookie(name: "__Secure-id", value: "v") }
        _ = try SetCookie(name: "__Secure-id", value: "v", domain: "example.com", path: "/app", secure: true)
        expectCookieError(.prefixViolation) { try SetCookie(name: "__Host-id", value: "v") }
        expectCookieError(.prefixViolation) { try SetCookie(name: "__Host-id", value: "v", path: "/app", secure: true) }
        expectCookieError(.prefixViolation) { try SetCookie(name: "__Host-id", value: "v", path: nil, secure: true) }
        expectCookieError(.prefixViolation) { try SetCookie(name: "__Host-id", value: "v", domain: "example.com", secure: true) }
        expectCookieError(.prefixViolation) { try SetCookie(name: "__host-id", value: "v") } // case-insensitive
        expectCookieError(.prefixViolation) { try SetCookie(name: "__SECURE-id", value: "v") }
        #expect(try SetCookie(name: "__Host-id", value: "v", secure: true).headerValue == "__Host-id=v; Secure; Path=/")
        _ = try SetCookie(name: "_Host-id", value: "v") // not a prefix
    }

    @Test func sameSiteNoneAndPartitionedRequireSecure() throws {
        expectCookieError(.sameSiteNoneRequiresSecure) { try SetCookie(name: "n", value: "v", sameSite: SetCookie.SameSite.none) }
        #expect(try SetCookie(name: "n", value: "v", secure: true, sameSite: SetCookie.SameSite.none).headerValue == "n=v; Secure; Path=/; SameSite=None")
        expectCookieError(.partitionedRequiresSecure) { try SetCookie(name: "n", value: "v", partitioned: true) }
    }

    @Test func expiresRange() throws {
        expectCookieError(.invalidExpires) { try SetCookie(name: "n", value: "v", expires: Date(timeIntervalSince1970: .infinity)) }
        expectCookieError(.invalidExpires) { try SetCookie(name: "n", value: "v", expires: Date(timeIntervalSince1970: 1e13)) }
        expectCookieError(.invalidExpires) { try SetCookie(name: "n", value: "v", expires: Date(timeIntervalSince1970: -1e12)) }
        #expect(try SetCookie(name: "n", value: "v", expires: Date(timeIntervalSince1970: -1), path: nil).headerValue == "n=v; Expires=Wed, 31 Dec 1969 23:59:59 GMT")
    }

    @Test(arguments: ["", "a;b", "a\u{0}", "ü", " a", "a "])
    func invalidExtensions(attribute: String) {
        expectCookieError(.invalidExtension) { try SetCookie(name: "n", value: "v", extensions: [attribute]) }
    }

    @Test func errorsDoNotLeakTheValue() {
        let error = #expect(throws: CookieError.self) { try SetCookie(name: "n", value: "secret value") }
        #expect(error?.message.contains("secret") == false)
        #expect(error?.description.hasPrefix("CookieError.invalidValue:") == true)
    }

    // MARK: - Deletion

    @Test func deletionEchoesTheAttributes() throws {
        let cookie = try SetCookie(
            name: "id", value: "x", maxAge: 60, domain: "example.com", path: "/app", secure: true, httpOnly: true,
            sameSite: .lax, partitioned: true, priority: .high, extensions: ["Foo"]
        )
        #expect(cookie.deletion().headerValue == "id=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; Path=/app; SameSite=Lax; Partitioned")
        #expect(try SetCookie(name: "id", value: "x").deletion().headerValue == "id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/")
        let host = try SetCookie(name: "__Host-id", value: "x", secure: true)
        #expect(host.deletion().headerValue == "__Host-id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; Path=/")
    }

    // MARK: - The Werkzeug factory beyond the vectors

    @Test func werkzeugFactoryDetails() throws {
        let now = Date(timeIntervalSince1970: 0)
        #expect(try SetCookie.werkzeug(name: "u", value: "v", domain: "bücher.de", now: now).domain == "xn--bcher-kva.de")
        #expect(try SetCookie.werkzeug(name: "u", value: "v", domain: "..Bücher.Example.com:443", now: now).domain == "xn--bcher-kva.Example.com")
        #expect(try SetCookie.werkzeug(name: "u", value: "v", domain: "straße.de", now: now).domain == "strasse.de")
        #expect(try SetCookie.werkzeug(name: "u", value: "v", domain: "例え.テスト", now: now).domain == "xn--r8jz45g.xn--zckzah")
        #expect(try SetCookie.werkzeug(name: "u", value: "v", domain: "", now: now).headerValue == "u=v; Domain=; Path=/")
        #expect(try SetCookie.werkzeug(name: "u", value: "v", domain: ":8080", now: now).headerValue == "u=v; Domain=; Path=/")
        expectCookieError(.invalidDomain) { try SetCookie.werkzeug(name: "u", domain: "a..b", now: now) }
        expectCookieError(.invalidDomain) { try SetCookie.werkzeug(name: "u", domain: "a b.com", now: now) }
        expectCookieError(.invalidDomain) { try SetCookie.werkzeug(name: "u", domain: "a;b.com", now: now) }
        #expect(try SetCookie.werkzeug(name: "u", path: "/a b;c/ü?x#y", now: now).path == "/a%20b%3Bc/%C3%BC%3Fx%23y")
        #expect(try SetCookie.werkzeug(name: "u", path: "", now: now).headerValue == "u=; Path=")
        #expect(try SetCookie.werkzeug(name: "u", sameSite: "LAX", now: now).sameSite == .lax)
        #expect(try SetCookie.werkzeug(name: "u", sameSite: "none", now: now).sameSite == SetCookie.SameSite.none) // no Secure check, as Werkzeug
        expectCookieError(.invalidSameSite) { try SetCookie.werkzeug(name: "u", sameSite: "bogus", now: now) }
        expectCookieError(.invalidName) { try SetCookie.werkzeug(name: "", now: now) }
        expectCookieError(.invalidName) { try SetCookie.werkzeug(name: "a=b", now: now) }
        // Non-ASCII names are written as their UTF-8 bytes, as Werkzeug does.
        #expect(try SetCookie.werkzeug(name: "ключ", value: "v", now: now).headerValue == "ключ=v; Path=/")
        // Expires = now + max_age, seconds truncated after Python's microsecond rounding.
        let later = Date(timeIntervalSince1970: 1_700_000_000.9999996)
        #expect(try SetCookie.werkzeug(name: "u", maxAge: 0, now: later).headerValue == "u=; Expires=Tue, 14 Nov 2023 22:13:21 GMT; Max-Age=0; Path=/")
    }

    @Test func punycodeRFC3492Samples() {
        #expect(Punycode.encode("bücher") == "bcher-kva")
        #expect(Punycode.encode("ü") == "tda")
        #expect(Punycode.encode("例え") == "r8jz45g")
        // RFC 3492 7.1 (L) Japanese: 3<nen>B<gumi><kinpachi><sensei>
        #expect(Punycode.encode("3年B組金八先生") == "3B-ww4c5e180e575a65lsy2b")
        // (B) Chinese (simplified)
        #expect(Punycode.encode("他们为什么不说中文") == "ihqwcrb4cv8a8dqg056pqjye")
    }

    @Test func pythonTitle() {
        #expect(SetCookie.pythonTitle("lax") == "Lax")
        #expect(SetCookie.pythonTitle("sTRICT") == "Strict")
        #expect(SetCookie.pythonTitle("no ne") == "No Ne")
    }
}

@Suite("Cookie descriptions")
struct CookieDescriptionTests {
    @Test func descriptionsRedactValues() throws {
        let cookie = try SetCookie(name: "session", value: "s3cr3t", secure: true, httpOnly: true)
        #expect(cookie.description == "Set-Cookie: session=<redacted 6 bytes>; Secure; HttpOnly; Path=/")
        #expect(!String(reflecting: cookie).contains("s3cr3t"))
        let cookies = RequestCookies(header: "session=s3cr3t; theme=dark")
        #expect(cookies.description == "Cookie: session, theme (2 pairs)")
        var jar = CookieJar()
        jar.receive(setCookie: cookie.headerValue, scheme: "https", host: "example.com", path: "/", now: Date(timeIntervalSince1970: 0))
        let stored = try #require(jar["session"])
        #expect(stored.description == "session=<redacted 6 bytes> (example.com, /, host-only, Secure, HttpOnly)")
    }
}
