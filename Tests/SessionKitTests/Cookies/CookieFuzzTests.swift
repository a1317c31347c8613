import Foundation
import Testing
@testable import SessionKit

/// Random bytes and random mutations of valid headers into every parser: no trap, bounded output.
@Suite("Cookie fuzz")
struct CookieFuzzTests {
    static let seeds: [String] = [
        #"a=1; b="x;y"; c="a\073b\054c"; d="say \"hi\""; e=; =f; g"#,
        "session=eyJ1c2VybmFtZSI6ImFsaWNlIn0.ZVPxAA.sig; user=alice; 用=é",
        "id=abc; Domain=.Example.com; Path=/app; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=-1; Secure; HttpOnly; SameSite=Lax; Partitioned; Priority=High; Foo=bar",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    ]
    static let specials: [UInt8] = Array(#";="\ ,:-.0123456789 "#.utf8) + [0x09, 0x0A, 0x0D, 0x00, 0x7F, 0xC3, 0xA9, 0xE7, 0x94, 0xA8, 0xFF]

    static func mutate(_ bytes: [UInt8], _ random: inout SeededGenerator) -> [UInt8] {
        var b = bytes
        for _ in 0..<Int.random(in: 1...8, using: &random) {
            let position = b.isEmpty ? 0 : Int.random(in: 0..<b.count, using: &random)
            let byte = Bool.random(using: &random) ? specials.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where !b.isEmpty: b[position] = byte
            case 1: b.insert(byte, at: position)
            case 2 where !b.isEmpty: b.remove(at: position)
            default:
                if !b.isEmpty {
                    let end = min(b.count, position + Int.random(in: 1...16, using: &random))
                    b.insert(contentsOf: b[position..<end], at: position)
                }
            }
        }
        return b
    }

    /// Inputs a test: the libFuzzer targets of Fuzz/ are the long runs; here a debug build (the
    /// suite runs its tests in parallel on as many threads as cores) takes a tenth, and the
    /// release-mode run of the core (scripts/test) the full count.
    static func scaled(_ count: Int) -> Int { _isDebugAssertConfiguration() ? count / 10 : count }

    static func inputs(count: Int, seed: UInt64) -> [String] {
        var random = SeededGenerator(seed: seed)
        var result: [String] = []
        for i in 0..<count {
            let bytes: [UInt8]
            if i % 2 == 0 {
                bytes = (0..<Int.random(in: 0...200, using: &random)).map { _ in
                    Bool.random(using: &random) ? specials.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
                }
            } else {
                bytes = mutate(Array(seeds.randomElement(using: &random)!.utf8), &random)
            }
            result.append(String(decoding: bytes, as: UTF8.self)) // invalid UTF-8 is repaired, as a server would
        }
        return result
    }

    @Test func cookieHeaderParsers() async {
        let limits = CookieLimits(maxPairs: 16, maxHeaderBytes: 150)
        for (index, input) in Self.inputs(count: Self.scaled(20_000), seed: 1).enumerated() {
            if index % 200 == 0 { await Task.yield() }   // CPU-bound: let the other tests run
            for decoding in [CookieValueDecoding.standard, .werkzeug] {
                for cookies in [RequestCookies(header: input, decoding: decoding), RequestCookies(header: input, limits: limits, decoding: decoding)] {
                    var total = 0
                    for (name, value) in cookies {
                        #expect(!name.isEmpty)
                        total += name.utf8.count + value.utf8.count
                        _ = cookies.all(name)
                    }
                    #expect(total <= input.utf8.count)
                    #expect(cookies.count * 2 <= input.utf8.count + 1) // every pair needs a name byte and a `;` but the last
                }
                let limited = RequestCookies(header: input, limits: limits, decoding: decoding)
                #expect(limited.count <= 16)
                #expect(limited.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count } <= 150)
            }
        }
    }

    @Test func setCookieParser() async {
        for (index, input) in Self.inputs(count: Self.scaled(20_000), seed: 2).enumerated() {
            if index % 200 == 0 { await Task.yield() }   // CPU-bound: let the other tests run
            guard let cookie = SetCookie(parsing: input) else { continue }
            #expect(cookie.name.utf8.count + cookie.value.utf8.count <= 4096)
            #expect(cookie.name.utf8.count + cookie.value.utf8.count <= input.utf8.count)
            #expect(cookie.extensions.count <= input.utf8.count)
            #expect(!cookie.name.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" })
            // Re-serializing a parsed cookie never traps; its header parses again.
            #expect(SetCookie(parsing: cookie.headerValue) != nil)
        }
    }

    @Test func cookieDateParser() async {
        for (index, input) in Self.inputs(count: Self.scaled(20_000), seed: 3).enumerated() {
            if index % 200 == 0 { await Task.yield() }   // CPU-bound: let the other tests run
            if let seconds = CookieDate.parseSeconds(input) {
                #expect(seconds >= -11_644_473_600 && seconds <= 253_402_300_799)
                #expect(CookieDate.parseSeconds(CookieDate.format(secondsSince1970: seconds)) == seconds)
            }
        }
        // A very long input is bounded work and no date.
        #expect(CookieDate.parse(String(repeating: "1 ", count: 100_000)) == nil)
    }

    @Test func jarNeverTraps() throws {
        var jar = CookieJar()
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let site = try #require(URL(string: "https://a.example.com/x/y"))
        for input in Self.inputs(count: 5_000, seed: 4) {
            jar.receive(setCookie: input, from: site, now: now)
        }
        #expect(jar.all.count <= 5_000)
        _ = jar.cookieHeader(for: site, now: now)
    }

    @Test func hostileHeadersCostBoundedWork() {
        // A quote that never closes, repeated: each pair is scanned once for its own `;`.
        let hostile = String(repeating: #"a=""#, count: 100_000)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(RequestCookies(header: hostile, decoding: .werkzeug).count <= 128)
            #expect(RequestCookies(header: hostile).count <= 128)
        }
        // Not a performance goal (those live in Benchmarks/): a guard against quadratic work, with a
        // bound a thousand times above what linear parsing takes even in a debug build.
        #expect(elapsed < .seconds(30))
    }

    /// Werkzeug's regex rescans after a newline makes a match fail; done naively that is quadratic
    /// (seconds for these 100-200 KB headers), done right it is milliseconds.
    @Test(arguments: [
        String(repeating: "a=", count: 50_000) + "\nb;",
        String(repeating: "=x\n", count: 40_000),
        String(repeating: "=\"\\\"\n", count: 30_000),
        String(repeating: "=\n", count: 30_000) + "=x" + String(repeating: " ", count: 60_000) + ";",
    ])
    func werkzeugRescansAreLinear(header: String) {
        let limits = CookieLimits(maxPairs: .max, maxHeaderBytes: .max)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            _ = RequestCookies(header: header, limits: limits, decoding: .werkzeug)
        }
        // A guard against quadratic rescans (which took minutes here), not a performance goal.
        #expect(elapsed < .seconds(30), "\(elapsed)")
    }
}
