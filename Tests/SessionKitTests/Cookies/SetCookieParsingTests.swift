import Foundation
import Testing
@testable import SessionKit

@Suite("SetCookie parsing")
struct SetCookieParsingTests {
    @Test func attributesAreCaseInsensitive() throws {
        let cookie = try #require(SetCookie(parsing: "id=abc; path=/x; SECURE; httponly; samesite=lAx; max-AGE=60; DOMAIN=.Example.COM; partitioned; priority=HIGH; expires=sun, 06 nov 1994 08:49:37 gmt"))
        #expect(cookie.name == "id")
        #expect(cookie.value == "abc")
        #expect(cookie.path == "/x")
        #expect(cookie.secure && cookie.httpOnly && cookie.partitioned)
        #expect(cookie.sameSite == .lax)
        #expect(cookie.maxAge == 60)
        #expect(cookie.domain == "example.com")
        #expect(cookie.priority == .high)
        #expect(cookie.expires == Date(timeIntervalSince1970: 784_111_777))
        #expect(cookie.extensions.isEmpty)
    }

    @Test func unknownAttributesAreKept() throws {
        let cookie = try #require(SetCookie(parsing: "a=b;  Foo=bar ; Baz;Comment=x=y ;; "))
        #expect(cookie.extensions == ["Foo=bar", "Baz", "Comment=x=y"])
        #expect(cookie.path == nil)
    }

    @Test func maxAgeRules() throws {
        func maxAge(_ text: String) -> Int? { SetCookie(parsing: "a=b; Max-Age=\(text)")?.maxAge }
        #expect(maxAge("0") == 0)
        #expect(maxAge("-5") == -5)
        #expect(maxAge("007") == 7)
        #expect(maxAge("99999999999999999999999") == Int.max) // saturates
        #expect(maxAge("1.5") == nil)
        #expect(maxAge("+5") == nil)
        #expect(maxAge("5s") == nil)
        #expect(maxAge("") == nil)
        #expect(maxAge("-") == nil)
        // An invalid one does not erase a valid earlier one; a later valid one wins.
        #expect(SetCookie(parsing: "a=b; Max-Age=5; Max-Age=x")?.maxAge == 5)
        #expect(SetCookie(parsing: "a=b; Max-Age=5; Max-Age=6")?.maxAge == 6)
    }

    @Test func invalidAttributeValuesAreIgnored() throws {
        let cookie = try #require(SetCookie(parsing: "a=b; Expires=never; SameSite=bogus; Priority=urgent; Domain=; Path=relative"))
        #expect(cookie.expires == nil)
        #expect(cookie.sameSite == nil)
        #expect(cookie.priority == nil)
        #expect(cookie.domain == nil)
        #expect(cookie.path == nil)
        // Path: the last one counts, an invalid last one resets to the default.
        #expect(SetCookie(parsing: "a=b; Path=/x; Path=y")?.path == nil)
        // Attribute values over 1024 bytes are ignored.
        #expect(SetCookie(parsing: "a=b; Path=/" + String(repeating: "p", count: 1024))?.path == nil)
        #expect(SetCookie(parsing: "a=b; Path=/" + String(repeating: "p", count: 1023))?.path?.count == 1024)
    }

    @Test func nameValueForms() throws {
        #expect(SetCookie(parsing: " a = b c ; Path=/")?.value == "b c")
        #expect(SetCookie(parsing: "a=\"q;\"")?.value == "\"q") // `;` ends the pair, quoted or not
        #expect(SetCookie(parsing: "a=b=c")?.value == "b=c")
        let nameless = try #require(SetCookie(parsing: "flag; Secure"))
        #expect(nameless.name == "")
        #expect(nameless.value == "flag")
        #expect(SetCookie(parsing: "=v")?.name == "")
        #expect(SetCookie(parsing: "a=")?.value == "")
    }

    @Test func ignoredHeaders() {
        #expect(SetCookie(parsing: "") == nil)
        #expect(SetCookie(parsing: "=") == nil)
        #expect(SetCookie(parsing: "; Path=/") == nil)
        #expect(SetCookie(parsing: "a=b\u{0}c") == nil)
        #expect(SetCookie(parsing: "a=b\nSet-Cookie: c=d") == nil)
        #expect(SetCookie(parsing: "a=b\u{7F}") == nil)
        #expect(SetCookie(parsing: "a=\tb") != nil) // tab is allowed
        #expect(SetCookie(parsing: "n=" + String(repeating: "x", count: 4095)) != nil)
        #expect(SetCookie(parsing: "n=" + String(repeating: "x", count: 4096)) == nil)
    }

    /// Random valid cookies, seeded: serialize, parse, compare every field.
    @Test func strictRoundTripProperty() throws {
        var random = SeededGenerator(seed: 0x5E5510)
        let tchars = Array("!#$%&'*+-.^_`|~abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        let octets = (0x21...0x7E).filter { ![0x22, 0x2C, 0x3B, 0x5C].contains($0) }.map { UInt8($0) }
        func string(_ alphabet: [UInt8], _ length: ClosedRange<Int>) -> String {
            String(decoding: (0..<Int.random(in: length, using: &random)).map { _ in alphabet.randomElement(using: &random)! }, as: UTF8.self)
        }
        let labelChars = Array("abcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let pathChars = (0x20...0x7E).filter { $0 != 0x3B }.map { UInt8($0) }
        var checked = 0
        for _ in 0..<2000 {
            var name = string(tchars, 1...20)
            if SetCookie.hasPrefix(name, "__secure-") || SetCookie.hasPrefix(name, "__host-") { name = "x" + name }
            var value = string(octets, 0...40)
            if Bool.random(using: &random) { value = "\"\(value)\"" }
            let domain: String? = Bool.random(using: &random) ? (0..<Int.random(in: 1...3, using: &random)).map { _ in string(labelChars, 1...10) }.joined(separator: ".") : nil
            let secure = Bool.random(using: &random)
            let sameSite = secure ? SetCookie.SameSite.allCases.randomElement(using: &random) : [SetCookie.SameSite.lax, .strict, nil].randomElement(using: &random)!
            let cookie = try SetCookie(
                name: name, value: value,
                expires: Bool.random(using: &random) ? Date(timeIntervalSince1970: Double(Int64.random(in: -11_644_473_600...253_402_300_799, using: &random))) : nil,
                maxAge: Bool.random(using: &random) ? Int.random(in: -100...100_000_000, using: &random) : nil,
                domain: domain,
                path: Bool.random(using: &random) ? "/" + string(pathChars, 0...30) + "/" : nil, // a trailing space is refused
                secure: secure, httpOnly: Bool.random(using: &random), sameSite: sameSite,
                partitioned: secure && Bool.random(using: &random), priority: SetCookie.Priority.allCases.randomElement(using: &random),
                extensions: Bool.random(using: &random) ? ["X-" + string(tchars, 1...8) + "=" + string(octets, 0...8)] : []
            )
            let parsed = try #require(SetCookie(parsing: cookie.headerValue), "\(cookie.headerValue)")
            #expect(parsed == cookie, "\(cookie.headerValue)")
            #expect(parsed.headerValue == cookie.headerValue)
            checked += 1
        }
        #expect(checked == 2000)
    }

    /// Any string survives Werkzeug quoting and Werkzeug parsing (Werkzeug's own round-trip claim).
    @Test func werkzeugValueRoundTripProperty() throws {
        var random = SeededGenerator(seed: 42)
        let pool: [Unicode.Scalar] = ["a", "Z", "0", " ", ";", ",", "\"", "\\", "=", "\t", "\u{0}", "\u{1A}", "\u{1F}", "\u{7F}", "é", "用", "😀", "\u{A0}", "\u{3000}", "0", "7", "\n"]
        for _ in 0..<3000 {
            var value = ""
            for _ in 0..<Int.random(in: 0...16, using: &random) { value.unicodeScalars.append(pool.randomElement(using: &random)!) }
            let cookie = try SetCookie(name: "k", value: value, valueEncoding: .werkzeug)
            let header = "x=1; k=\(cookie.writtenValue); y=2"
            let parsed = RequestCookies(header: header, decoding: .werkzeug)
            #expect(parsed["k"].map { Array($0.unicodeScalars) } == Array(value.unicodeScalars), "\(value.debugDescription)")
            #expect(parsed["y"] == "2")
        }
    }
}
