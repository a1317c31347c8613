import Foundation
import Testing
@testable import SessionKit

/// Throws random and mutated input at the decoder and the JSON reader: nothing may trap, and
/// whatever decodes must re-encode.
@Suite("Flask fuzz")
struct FlaskFuzzTests {
    static let context = SessionCodecContext(cookieName: "session", now: 1_700_000_060, lifetime: 2_678_400)
    static let cookieAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ".utf8)
    static let jsonTokens = [
        "{", "}", "[", "]", ",", ":", "\"", "\" t\"", "\" di\"", "\" b\"", "\" m\"", "\" u\"", "\" d\"", "\"a__\"", "\"k\"",
        "1", "-0", "1e400", "2.5", "123456789012345678901234567890", "NaN", "Infinity", "-Infinity", "null", "true", "false",
        "\"AA==\"", "\"Tue, 02 Jan 2024 03:04:05 GMT\"", "\"12345678123456781234567812345678\"", "\"\\ud800\"", "\"\\u00e9\"",
        " ", "\n", "\"x\"", "\"\u{1F600}\"", "\\", "\u{01}",
    ]

    /// Reads whatever decoded back out through the encoder (it must not trap or throw for valid data).
    private func reencode(_ result: SessionDecodeResult, _ codec: FlaskSessionCodec) {
        guard case .valid(let data, _) = result else { return }
        var relaxed = codec
        relaxed.maxCookieLength = .max
        _ = try? relaxed.encode(data, context: Self.context)
    }

    @Test func randomBytesNeverTrap() async throws {
        let codec = try FlaskSessionCodec(secretKey: "dev-secret-key-for-vectors")
        var random = SeededGenerator(seed: 1)
        for round in 0..<CookieFuzzTests.scaled(20_000) {
            if round % 200 == 0 { await Task.yield() }   // CPU-bound: let the other tests run
            let count = Int.random(in: 0...200, using: &random)
            let bytes: [UInt8] = round % 2 == 0
                ? (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
                : (0..<count).map { _ in Self.cookieAlphabet.randomElement(using: &random)! }
            let text = String(decoding: bytes, as: UTF8.self)
            reencode(codec.decode(text[...], context: Self.context), codec)
            _ = FlaskSessionCodec.inspectUnverified(text[...])
            _ = try? FlaskJSON.parseTagged(bytes)
            _ = FlaskBase64.decodeItsdangerous(bytes)
            _ = Base64URL.decode(bytes)
        }
    }

    @Test func mutatedVectorCookiesNeverTrap() throws {
        var random = SeededGenerator(seed: 2)
        for vector in FlaskVectors.sessionVectors {
            let codec = try FlaskSessionCodec(secretKey: FlaskTypedValue.hexBytes(vector["secret_key_hex"] as! String))
            let original = Array((vector["cookie"] as! String).utf8)
            for _ in 0..<300 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0 where !bytes.isEmpty: bytes[position] = Self.cookieAlphabet.randomElement(using: &random)!
                    case 1: bytes.insert(Self.cookieAlphabet.randomElement(using: &random)!, at: position)
                    case 2 where !bytes.isEmpty: bytes.remove(at: position)
                    default: bytes = Array(bytes[..<position])
                    }
                }
                let text = String(decoding: bytes, as: UTF8.self)
                reencode(codec.decode(text[...], context: Self.context), codec)
                _ = FlaskSessionCodec.inspectUnverified(text[...])
            }
        }
    }

    /// Authentic cookies with hostile payloads get past the signature, so they exercise base64,
    /// zlib, UTF-8, JSON and untagging for real.
    @Test func authenticGarbageNeverTraps() async throws {
        let codec = try FlaskSessionCodec(secretKey: "dev-secret-key-for-vectors")
        var random = SeededGenerator(seed: 3)
        var accepted = 0
        for round in 0..<CookieFuzzTests.scaled(20_000) {
            if round % 200 == 0 { await Task.yield() }   // CPU-bound: let the other tests run
            var json = ""
            for _ in 0..<Int.random(in: 1...30, using: &random) { json += Self.jsonTokens.randomElement(using: &random)! }
            if round % 3 == 0 { json = "{\"k\":" + json + "}" }
            var payload = Array(json.utf8)
            let compress = round % 4 == 0
            if compress {
                payload = FlaskZlib.compress(payload)!
                if round % 8 == 0, !payload.isEmpty {
                    payload[Int.random(in: 0..<payload.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                }
            }
            let cookie = codec.signFields(payload: (compress ? "." : "") + Base64URL.encode(payload), timestamp: "ZVPxAA")
            let result = codec.decode(cookie[...], context: Self.context)
            if case .valid = result { accepted += 1 }
            reencode(result, codec)
        }
        #expect(accepted > 0)
    }

    @Test func deepAndWideInputs() throws {
        let codec = try FlaskSessionCodec(secretKey: "k")
        // Deep nesting inside an authentic compressed cookie: rejected by the depth limit, no stack overflow.
        for open in ["[", "{\"a\":", "{\" t\":", "{\" di\":{\"x__\":"] {
            let json = "{\"v\":" + String(repeating: open, count: 20_000)
            let payload = FlaskZlib.compress(Array(json.utf8))!
            let cookie = codec.signFields(payload: "." + Base64URL.encode(payload), timestamp: "ZVPxAA")
            if case .valid = codec.decode(cookie[...], context: Self.context) { Issue.record("accepted \(open)") }
        }
        // Many keys and duplicates.
        let wide = "{" + (0..<3000).map { "\"k\($0 % 1000)\":\($0)" }.joined(separator: ",") + "}"
        guard case .dict(let entries) = try FlaskJSON.parse(Array(wide.utf8)) else {
            Issue.record("not a dict")
            return
        }
        #expect(entries.count == 1000)
        #expect(entries[0] == FlaskDictEntry("k0", .int(2000)))
    }
}
