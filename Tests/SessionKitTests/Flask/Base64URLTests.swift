import Foundation
import Testing
@testable import SessionKit

@Suite("Base64URL")
struct Base64URLTests {
    @Test func roundTripsEveryLength() {
        var random = SystemRandomNumberGenerator()
        for count in 0..<100 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            let text = Base64URL.encode(bytes)
            #expect(text.utf8.count == Base64URL.encodedCount(count))
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(Array(text.utf8)) == bytes)
            #expect(Base64URL.decode(text[...]) == bytes)
            // Python's urlsafe_b64encode, as itsdangerous reads it.
            #expect(FlaskBase64.decodeItsdangerous(Array(text.utf8)) == bytes)
        }
    }

    /// Both writers (into a String, appended to an array) against Foundation's base64.
    @Test func matchesFoundationAndAppends() {
        var random = SplitMix64(seed: 5)
        for count in 0..<70 {
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let foundation = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == foundation)
            #expect(Base64URL.encode(bytes[...].dropFirst(0)) == foundation)
            var output: [UInt8] = [1, 2, 3]
            Base64URL.encode(bytes, into: &output)
            #expect(output == [1, 2, 3] + Array(foundation.utf8))
        }
    }

    @Test func knownValues() {
        #expect(Base64URL.encode([0x65, 0x53, 0xf1, 0x00]) == "ZVPxAA")
        #expect(Base64URL.encode([0x01, 0x00, 0x00, 0x00, 0x05]) == "AQAAAAU")
        #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
        #expect(FlaskBase64.encodeStandard([0xfb, 0xff]) == "+/8=")
        #expect(FlaskBase64.encodeStandard([0x68, 0x69]) == "aGk=")
    }

    @Test func strictDecodeRejectsNonCanonicalText() {
        for text in ["A", "ZVPxAA=", "ZVPx AA", "ZVP+AA", "ZVP/AA", "AB", "ABD", "ZVPxA\u{e9}"] {
            #expect(Base64URL.decode(text[...]) == nil, "\(text)")
        }
        #expect(Base64URL.decode(""[...]) == [])
        #expect(Base64URL.decode("AA"[...]) == [0])
        #expect(Base64URL.decode("AAA"[...]) == [0, 0])
    }

    /// Every byte value at every position of full groups and of both tails: decoded exactly when
    /// it is in the alphabet, as Foundation's base64 decodes the same text.
    @Test func everyByteAtEveryPosition() {
        let alphabet = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8))
        for base in ["QUJDREVGR0hJSktM", "QUJDREVGR0hJSktMTQ", "QUJDREVGR0hJSktMTU4"] {
            for position in 0..<base.utf8.count {
                for byte in UInt8.min...UInt8.max {
                    var text = Array(base.utf8)
                    text[position] = byte
                    let decoded = Base64URL.decode(text)
                    guard alphabet.contains(byte) else {
                        #expect(decoded == nil, "byte \(byte) at \(position) of \(base)")
                        continue
                    }
                    var standard = String(decoding: text, as: UTF8.self)
                        .replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
                    standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
                    let expected = Data(base64Encoded: standard).map(Array.init)
                    // Foundation accepts non-zero unused bits in a tail; the strict decoder does not.
                    if let decoded { #expect(decoded == expected, "byte \(byte) at \(position) of \(base)") }
                    else { #expect(position >= base.utf8.count - base.utf8.count % 4, "byte \(byte) at \(position) of \(base)") }
                }
            }
        }
    }

    @Test func itsdangerousDecodeIsLenient() {
        // Junk is skipped (but counts toward the padding), '=' padding may be present or not, +/ are
        // accepted too. Expected values from itsdangerous 2.2.0.
        #expect(FlaskBase64.decodeItsdangerous(Array("ZV!Px AA".utf8)) == nil)
        #expect(FlaskBase64.decodeItsdangerous(Array("ZV!PxAA".utf8)) == nil)
        #expect(FlaskBase64.decodeItsdangerous(Array("ZV!P!x!A!A".utf8)) == [0x65, 0x53, 0xf1, 0x00])
        #expect(FlaskBase64.decodeItsdangerous(Array("A=A=A".utf8)) == [0, 0])
        #expect(FlaskBase64.decodeItsdangerous(Array("ZVPxAA==".utf8)) == [0x65, 0x53, 0xf1, 0x00])
        #expect(FlaskBase64.decodeItsdangerous(Array("+/8".utf8)) == [0xfb, 0xff])
        #expect(FlaskBase64.decodeItsdangerous(Array("ZVPxA".utf8)) == nil)
        #expect(FlaskBase64.decodeItsdangerous([]) == [])
        // Python's b64decode stops at a complete pad sequence and ignores what follows.
        #expect(FlaskBase64.decodePython(Array("AA==AAAA".utf8)) == [0])
        #expect(FlaskBase64.decodePython(Array("A=A=A".utf8)) == nil)
    }

    @Test func extremeValuesDoNotTrap() throws {
        _ = FlaskHTTPDate.format(.min)
        _ = FlaskHTTPDate.format(.max)
        _ = FlaskJSON.taggedBytes(.datetime(.min))
        var codec = try FlaskSessionCodec(secretKey: "k")
        codec.maxDecompressedSize = -5
        codec.clockSkewLeeway = .min
        let context = SessionCodecContext(cookieName: "session", now: .max, lifetime: .min)
        let cookie = codec.signFields(payload: ".eJyrVspWslJKRAJKtQBDAway", timestamp: "ZVPxAA")
        #expect(!codec.decode(cookie[...], context: context).isValid)
        let now = SessionCodecContext(cookieName: "session", now: 1_700_000_000, lifetime: .max)
        #expect(!codec.decode(cookie[...], context: now).isValid)
        _ = FlaskZlib.decompress([0x78, 0x9c], limit: .max)
    }
}
