import Foundation
import Crypto
import Testing
@testable import SessionKit

/// Both native formats: round trips, tampering of every byte, key rotation, cookie name binding,
/// expiry, versions and hostile input.
@Suite("Native codecs")
struct NativeCodecTests {
    static let secret = SessionSecret(text: "0123456789abcdef0123456789abcdef-current")
    static let oldSecret = SessionSecret(text: "0123456789abcdef0123456789abcdef-previous")
    static let otherSecret = SessionSecret(text: "0123456789abcdef0123456789abcdef-other")

    enum Format: String, CaseIterable, Sendable { case aesGCM, chaChaPoly, signed }

    static func codec(_ format: Format, current: SessionSecret = secret, previous: [SessionSecret] = []) throws -> any SessionCodec {
        let keys = try KeyRing(current: current, previous: previous)
        switch format {
        case .aesGCM: return EncryptedSessionCodec(keys: keys)
        case .chaChaPoly: return EncryptedSessionCodec(keys: keys, algorithm: .chaCha20Poly1305)
        case .signed: return SignedSessionCodec(keys: keys)
        }
    }

    static let context = SessionCodecContext(cookieName: "session", now: 1_700_000_000, lifetime: 3600)

    static func sample() throws -> SessionData {
        SessionData(values: [
            "username": try SessionValue(encoding: "alice"),
            "cart": try SessionValue(encoding: ["apple": 2, "pear": 1]),
            "用户": try SessionValue(encoding: "😀"),
        ])
    }

    /// The signed cookie's MAC is HMAC-SHA256 over the associated data and then the message, under
    /// the key derived for signing: recomputed here with swift-crypto's one-shot API, independently
    /// of how the codec feeds its HMAC.
    @Test func signedMACIsHMACOverAssociatedDataThenMessage() throws {
        let keys = try KeyRing(current: Self.secret)
        let codec = SignedSessionCodec(keys: keys)
        for context in [Self.context, SessionCodecContext(cookieName: "__Host-s", now: 1_800_000_000, lifetime: 60)] {
            let cookie = try codec.encode(try Self.sample(), context: context)
            let bytes = try #require(Base64URL.decode(cookie[...]))
            let message = Array(bytes.dropLast(32))
            let aad = NativeCookieEnvelope.associatedData(version: 0x81, purpose: "session", cookieName: context.cookieName)
            let key = keys.derive(purpose: "sessionkit/signed/v1")[0].key
            let expected = HMAC<SHA256>.authenticationCode(for: aad + message, using: key)
            #expect(Array(bytes.suffix(32)) == Array(expected))
        }
    }

    /// The stack-built associated data is byte for byte the array form, for any purpose and name.
    @Test func associatedDataOnTheStackMatchesTheArray() {
        let long = String(repeating: "x", count: 300)
        let substring = "..name-from-a-substring.."[...].dropFirst(2).dropLast(2)
        for purpose in ["session", "", "caf\u{e9}", long] {
            for name in ["session", "", "n\u{00e4}me", long, String(substring)] {
                for version: UInt8 in [0x01, 0x02, 0x81] {
                    let stacked = NativeCookieEnvelope.withAssociatedData(version: version, purpose: purpose, cookieName: name) { Array($0) }
                    #expect(stacked == NativeCookieEnvelope.associatedData(version: version, purpose: purpose, cookieName: name))
                }
            }
        }
    }

    @Test(arguments: Format.allCases)
    func roundTrip(format: Format) throws {
        let codec = try Self.codec(format)
        let value = try codec.encode(Self.sample(), context: Self.context)
        #expect(value.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) })
        guard case .valid(let data, let needsReissue) = codec.decode(value[...], context: Self.context) else {
            Issue.record("did not decode"); return
        }
        #expect(!needsReissue)
        #expect(data.issuedAt == Self.context.now)
        #expect(data.expiresAt == Self.context.now + 3600)
        #expect(try data.values["username"]?.decode(String.self) == "alice")
        #expect(try data.values["cart"]?.decode([String: Int].self) == ["apple": 2, "pear": 1])
        #expect(try data.values["用户"]?.decode(String.self) == "😀")
    }

    @Test func encryptedHidesContents() throws {
        let value = try Self.codec(.aesGCM).encode(Self.sample(), context: Self.context)
        let bytes = try #require(Base64URL.decode(value[...]))
        #expect(!String(decoding: bytes, as: UTF8.self).contains("alice"))
        // Two encodings of the same data differ (fresh nonce each time).
        #expect(try Self.codec(.aesGCM).encode(Self.sample(), context: Self.context) != value)
    }

    @Test(arguments: Format.allCases)
    func everyFlippedBitIsRejected(format: Format) throws {
        let codec = try Self.codec(format)
        let value = try codec.encode(Self.sample(), context: Self.context)
        let bytes = try #require(Base64URL.decode(value[...]))
        for index in bytes.indices {
            var tampered = bytes
            tampered[index] ^= 0x01
            let result = codec.decode(Base64URL.encode(tampered)[...], context: Self.context)
            guard case .rejected(let reason) = result else {
                Issue.record("byte \(index) flipped was accepted"); continue
            }
            #expect(index == 0 ? reason == .unknownVersion || reason == .badSignature : reason == .badSignature)
        }
    }

    @Test(arguments: Format.allCases)
    func truncatedAndExtendedAreRejected(format: Format) throws {
        let codec = try Self.codec(format)
        let value = try codec.encode(Self.sample(), context: Self.context)
        for length in [0, 1, 2, 10, value.count / 2, value.count - 1] {
            guard case .rejected = codec.decode(value.prefix(length), context: Self.context) else {
                Issue.record("prefix of \(length) accepted"); continue
            }
        }
        guard case .rejected = codec.decode((value + "AA")[...], context: Self.context) else {
            Issue.record("extended cookie accepted"); return
        }
    }

    @Test(arguments: Format.allCases)
    func cookieMovedToAnotherNameIsRejected(format: Format) throws {
        let codec = try Self.codec(format)
        let value = try codec.encode(Self.sample(), context: Self.context)
        var other = Self.context
        other.cookieName = "remember"
        guard case .rejected(.badSignature) = codec.decode(value[...], context: other) else {
            Issue.record("accepted under another cookie name"); return
        }
    }

    @Test(arguments: Format.allCases)
    func anotherPurposeIsRejected(format: Format) throws {
        let keys = try KeyRing(current: Self.secret)
        let (a, b): (any SessionCodec, any SessionCodec) = format == .signed
            ? (SignedSessionCodec(keys: keys, purpose: "a"), SignedSessionCodec(keys: keys, purpose: "b"))
            : (EncryptedSessionCodec(keys: keys, purpose: "a"), EncryptedSessionCodec(keys: keys, purpose: "b"))
        let value = try a.encode(Self.sample(), context: Self.context)
        guard case .rejected(.badSignature) = b.decode(value[...], context: Self.context) else {
            Issue.record("accepted for another purpose"); return
        }
    }

    @Test(arguments: Format.allCases)
    func keyRotation(format: Format) throws {
        let old = try Self.codec(format, current: Self.oldSecret)
        let rotated = try Self.codec(format, current: Self.secret, previous: [Self.oldSecret])
        let oldCookie = try old.encode(Self.sample(), context: Self.context)
        guard case .valid(_, let needsReissue) = rotated.decode(oldCookie[...], context: Self.context) else {
            Issue.record("old cookie not accepted after rotation"); return
        }
        #expect(needsReissue)
        // New cookies are made with the newest key only: the old codec cannot read them.
        let newCookie = try rotated.encode(Self.sample(), context: Self.context)
        guard case .rejected(.badSignature) = old.decode(newCookie[...], context: Self.context) else {
            Issue.record("new cookie verifies under the old key"); return
        }
        // A key that was never in the ring is rejected.
        let stranger = try Self.codec(format, current: Self.otherSecret)
        guard case .rejected(.badSignature) = stranger.decode(newCookie[...], context: Self.context) else {
            Issue.record("accepted under a foreign key"); return
        }
    }

    @Test(arguments: Format.allCases)
    func expiryUsesTheDeadlineInsideTheCookie(format: Format) throws {
        let codec = try Self.codec(format)
        let value = try codec.encode(Self.sample(), context: Self.context)
        var later = Self.context
        later.now += 3600
        guard case .valid = codec.decode(value[...], context: later) else { Issue.record("rejected at the deadline"); return }
        later.now += 1
        guard case .rejected(.expired) = codec.decode(value[...], context: later) else { Issue.record("accepted after the deadline"); return }
        // A longer lifetime configured later does not extend a cookie already issued.
        later.lifetime = 100_000
        guard case .rejected(.expired) = codec.decode(value[...], context: later) else { Issue.record("lifetime extended an old cookie"); return }
        var earlier = Self.context
        earlier.now -= 61
        guard case .rejected(.expired) = codec.decode(value[...], context: earlier) else { Issue.record("future issued-at accepted"); return }
    }

    @Test func formatsDoNotCrossOver() throws {
        let signed = try Self.codec(.signed)
        let encrypted = try Self.codec(.aesGCM)
        let s = try signed.encode(Self.sample(), context: Self.context)
        let e = try encrypted.encode(Self.sample(), context: Self.context)
        guard case .rejected(.unknownVersion) = encrypted.decode(s[...], context: Self.context) else { Issue.record("signed read as encrypted"); return }
        guard case .rejected(.unknownVersion) = signed.decode(e[...], context: Self.context) else { Issue.record("encrypted read as signed"); return }
    }

    @Test func unknownVersionIsRejected() throws {
        let codec = try Self.codec(.signed)
        var bytes = try #require(Base64URL.decode(codec.encode(Self.sample(), context: Self.context)[...]))
        bytes[0] = 0x7F
        guard case .rejected(.unknownVersion) = codec.decode(Base64URL.encode(bytes)[...], context: Self.context) else {
            Issue.record("unknown version accepted"); return
        }
    }

    @Test func oversizeIsRejectedBeforeDecoding() throws {
        let codec = try Self.codec(.aesGCM)
        let huge = String(repeating: "A", count: 4097)
        guard case .rejected(.tooLarge) = codec.decode(huge[...], context: Self.context) else { Issue.record("oversize accepted"); return }
    }

    @Test func signedPayloadIsReadableWithoutTheKey() throws {
        let value = try Self.codec(.signed).encode(Self.sample(), context: Self.context)
        let data = try #require(SignedSessionCodec.unverifiedPayload(value[...]))
        #expect(try data.values["username"]?.decode(String.self) == "alice")
    }

    @Test(arguments: Format.allCases)
    func randomInputNeverTraps(format: Format) throws {
        let codec = try Self.codec(format)
        var generator = SplitMix64(seed: 42)
        let valid = try codec.encode(Self.sample(), context: Self.context)
        for round in 0..<3000 {
            let input: String
            if round % 2 == 0 {
                let count = Int.random(in: 0..<200, using: &generator)
                input = String(decoding: (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }, as: UTF8.self)
            } else {
                var chars = Array(valid)
                let position = Int.random(in: 0..<chars.count, using: &generator)
                chars[position] = "ABCxyz019-_=.!"[("ABCxyz019-_=.!".index("ABCxyz019-_=.!".startIndex, offsetBy: Int.random(in: 0..<14, using: &generator)))]
                input = String(chars)
            }
            if case .valid = codec.decode(input[...], context: Self.context), input != valid {
                Issue.record("random input accepted: \(input)")
            }
        }
    }

    @Test func shortSecretsAreAConfigurationError() {
        #expect(throws: SessionError.self) { try KeyRing(current: SessionSecret(text: "too short")) }
        #expect(throws: SessionError.self) { try KeyRing(current: Self.secret, previous: [SessionSecret(text: "short")]) }
    }

    @Test func secretsNeverPrint() throws {
        let keys = try KeyRing(current: Self.secret)
        #expect(!"\(Self.secret)".contains("0123456789"))
        #expect(!"\(keys)".contains("0123456789"))
        #expect(!String(reflecting: Self.secret).contains("0123456789"))
    }

    @Test func environmentSecret() throws {
        #expect(throws: SessionError.self) { try SessionSecret.environment("SK_TEST_UNSET", environment: [:]) }
        let secret = try SessionSecret.environment("SK", environment: ["SK": "x"])
        #expect(secret.bytes == [UInt8(ascii: "x")])
        #expect(SessionSecret.generateText().count == 43)
    }
}
