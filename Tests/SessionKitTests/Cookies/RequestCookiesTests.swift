import Foundation
import Testing
@testable import SessionKit

@Suite("RequestCookies")
struct RequestCookiesTests {
    func pairs(_ cookies: RequestCookies) -> [[String]] { cookies.map { [$0.name, $0.value] } }

    @Test(arguments: [CookieValueDecoding.standard, .werkzeug])
    func basics(decoding: CookieValueDecoding) {
        let cookies = RequestCookies(header: "  a = b  ;\t c=d ;  session=x.y.z", decoding: decoding)
        #expect(pairs(cookies) == [["a", "b"], ["c", "d"], ["session", "x.y.z"]])
        #expect(cookies.count == 3)
        #expect(!cookies.isEmpty)
        #expect(cookies["c"] == "d")
        #expect(cookies.first("session") == "x.y.z")
        #expect(cookies["missing"] == nil)
        #expect(cookies.all("missing") == [])
        #expect(cookies.contains("a"))
        #expect(!cookies.contains("A")) // names are case-sensitive
        #expect(RequestCookies(header: "", decoding: decoding).isEmpty)
        #expect(RequestCookies().isEmpty)
    }

    @Test(arguments: [CookieValueDecoding.standard, .werkzeug])
    func duplicatesKeepEveryValueInOrder(decoding: CookieValueDecoding) {
        let cookies = RequestCookies(header: "a=1; b=3; a=2; a=", decoding: decoding)
        #expect(cookies["a"] == "1")
        #expect(cookies.all("a") == ["1", "2", ""])
        #expect(cookies.names == ["a", "b"])
        #expect(cookies.pairs.count == 4)
    }

    @Test(arguments: [CookieValueDecoding.standard, .werkzeug])
    func commasAndJSONStayIntact(decoding: CookieValueDecoding) {
        let cookies = RequestCookies(header: #"a=1, b=2; json={"k":[1,2]}; c=x,y"#, decoding: decoding)
        #expect(pairs(cookies) == [["a", "1, b=2"], ["json", #"{"k":[1,2]}"#], ["c", "x,y"]])
    }

    @Test(arguments: [CookieValueDecoding.standard, .werkzeug])
    func malformedPairsAreSkippedNotFatal(decoding: CookieValueDecoding) {
        let cookies = RequestCookies(header: "=v; a=1;;; ; =; flag; b=c=d", decoding: decoding)
        #expect(pairs(cookies) == [["a", "1"], ["flag", ""], ["b", "c=d"]])
    }

    /// The standard parser against a direct transcription of its rules, on random headers made of
    /// the bytes that matter (separators, blanks, quotes) and letters.
    @Test func standardMatchesAModelOnRandomHeaders() {
        func trimmed(_ text: Substring) -> Substring {
            var text = text
            while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
            while let last = text.last, last == " " || last == "\t" { text.removeLast() }
            return text
        }
        func model(_ header: String) -> [[String]] {
            header.split(separator: ";", omittingEmptySubsequences: false).compactMap { piece in
                let equals = piece.firstIndex(of: "=")
                let name = trimmed(piece[..<(equals ?? piece.endIndex)])
                guard !name.isEmpty else { return nil }
                var value = equals.map { trimmed(piece[piece.index(after: $0)...]) } ?? ""
                if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
                return [String(name), String(value)]
            }
        }
        var random = SplitMix64(seed: 17)
        let alphabet = Array("ab=; \t\"xy=;".unicodeScalars)
        for _ in 0..<5_000 {
            let length = Int(random.next() % 40)
            let header = String(String.UnicodeScalarView((0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }))
            #expect(pairs(RequestCookies(header: header, decoding: .standard)) == model(header), "\(header.debugDescription)")
        }
    }

    @Test func standardStripsOnePairOfQuotesWithoutUnescaping() {
        let cookies = RequestCookies(header: #"a="x y"; b=""; c="; d=""q""; e="\073""#)
        #expect(pairs(cookies) == [["a", "x y"], ["b", ""], ["c", "\""], ["d", #""q""#], ["e", #"\073"#]])
        // The standard parser splits on every `;`, quoted or not.
        #expect(pairs(RequestCookies(header: #"a="x;y"; b=2"#)) == [["a", "\"x"], ["y\"", ""], ["b", "2"]])
    }

    @Test func werkzeugUnquotes() {
        let cookies = RequestCookies(header: #"a="x;y"; b="a\073b\054c"; c="say \"hi\""; d="caf\303\251"; e="\377""#, decoding: .werkzeug)
        #expect(pairs(cookies) == [["a", "x;y"], ["b", "a;b,c"], ["c", #"say "hi""#], ["d", "café"], ["e", "\u{FFFD}"]])
    }

    /// Expected values computed with Werkzeug's regex and unslash (Python 3.11, re.ASCII).
    @Test func werkzeugRegexCornerCases() {
        let cases: [(String, [[String]])] = [
            ("a=b\nc; d=1", [["b\nc", ""], ["d", "1"]]),                  // `.` does not match a newline
            ("a=\nb; c=2", [["a", "b"], ["c", "2"]]),                      // whitespace after `=` may be a newline
            (#"a="x\"; b=1"#, [["a", #"x\"#], ["b", "1"]]),                // quote never closes properly, still unslashed
            (#"a="x" y; b=1"#, [["a", #""x" y"#], ["b", "1"]]),            // closed quote not followed by `;`
            (#"a="x"y"; b=1"#, [["a", #"x"y"#], ["b", "1"]]),              // whole value looks quoted: unslashed
            ("a=\u{A0}v\u{A0}; \u{3000}b\u{3000}=1", [["a", "v"], ["b", "1"]]), // Unicode strip()
            ("a=\u{1C}v\u{1F}", [["a", "v"]]),                              // \x1c-\x1f are str.isspace()
            (#"a="\q\\\8\400""#, [["a", #"q\8400"#]]),                     // single-character unescapes
            ("a=\"\\\n\"", [["\"\\\n\"", ""]]),                          // no match up to `=`: rescanned after it
        ]
        for (header, expected) in cases {
            #expect(pairs(RequestCookies(header: header, decoding: .werkzeug)) == expected, "\(header.debugDescription)")
        }
    }

    /// 400 random headers, expected pairs from Werkzeug's regex itself (WerkzeugParserCorpus.swift).
    @Test func werkzeugDifferentialCorpus() {
        #expect(WerkzeugParserCorpus.cases.count == 400)
        var mismatches = 0
        for (header, expected) in WerkzeugParserCorpus.cases {
            let got = RequestCookies(header: header, decoding: .werkzeug).map { [$0.name, $0.value] }
            let same = got.count == expected.count && zip(got, expected).allSatisfy { g, e in
                g.count == 2 && g[0].unicodeScalars.elementsEqual(e[0].unicodeScalars) && g[1].unicodeScalars.elementsEqual(e[1].unicodeScalars)
            }
            if !same {
                mismatches += 1
                Issue.record("\(header.debugDescription): got \(got), Werkzeug \(expected)")
            }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: [CookieValueDecoding.standard, .werkzeug])
    func multipleHeadersAreJoined(decoding: CookieValueDecoding) {
        let cookies = RequestCookies(headers: ["a=1; b=2", "c=3", "a=4"], decoding: decoding)
        #expect(cookies.header == "a=1; b=2;c=3;a=4")
        #expect(cookies.all("a") == ["1", "4"])
        #expect(cookies["c"] == "3")
        #expect(RequestCookies(headers: [String](), decoding: decoding).isEmpty)
    }

    @Test(arguments: [CookieValueDecoding.standard, .werkzeug])
    func pairLimitIgnoresTheRest(decoding: CookieValueDecoding) {
        let header = (0..<1000).map { "c\($0)=\($0)" }.joined(separator: "; ")
        let cookies = RequestCookies(header: header, decoding: decoding)
        #expect(cookies.count == 128)
        #expect(cookies["c127"] == "127")
        #expect(cookies["c128"] == nil)
        let few = RequestCookies(header: header, limits: CookieLimits(maxPairs: 3), decoding: decoding)
        #expect(few.map(\.name) == ["c0", "c1", "c2"])
    }

    @Test(arguments: [CookieValueDecoding.standard, .werkzeug])
    func byteLimitDropsTheCutPairWhole(decoding: CookieValueDecoding) {
        let header = "a=1; b=" + String(repeating: "x", count: 100) + "; c=3"
        let cut = RequestCookies(header: header, limits: CookieLimits(maxHeaderBytes: 50), decoding: decoding)
        #expect(pairs(cut) == [["a", "1"]])
        // A pair that ends exactly at the limit (its `;` is the next byte) is complete.
        let exact = RequestCookies(header: "a=1;b=2", limits: CookieLimits(maxHeaderBytes: 3), decoding: decoding)
        #expect(pairs(exact) == [["a", "1"]])
        let whole = RequestCookies(header: "a=1", limits: CookieLimits(maxHeaderBytes: 3), decoding: decoding)
        #expect(pairs(whole) == [["a", "1"]])
        // Default: 16 KiB. 16384 = 5 * 3276 + 4: pair 3276 is "k=v;" ending at byte 16383, so 3277 pairs.
        let big = String(repeating: "k=v; ", count: 4000)
        #expect(RequestCookies(header: big, limits: CookieLimits(maxPairs: 100_000), decoding: decoding).count == 3277)
        #expect(RequestCookies(header: big, limits: CookieLimits(maxPairs: 100_000, maxHeaderBytes: 16382), decoding: decoding).count == 3276)
        #expect(RequestCookies(header: "a=1", limits: CookieLimits(maxHeaderBytes: 0), decoding: decoding).isEmpty)
    }

    @Test func namesCompareByteForByte() {
        // "é" precomposed versus e + combining acute: equal as Swift Strings, different cookies.
        let cookies = RequestCookies(header: "caf\u{E9}=1; cafe\u{301}=2")
        #expect(cookies["caf\u{E9}"] == "1")
        #expect(cookies["cafe\u{301}"] == "2")
        #expect(cookies.count == 2)
    }

    @Test func collectionAccess() {
        let cookies = RequestCookies(header: "a=1; b=2")
        #expect(cookies.startIndex == 0)
        #expect(cookies.endIndex == 2)
        #expect(cookies[1].name == "b")
        #expect(cookies[1].value == "2")
        #expect(cookies.pairs.map(\.value) == ["1", "2"])
    }
}
