import Crypto
import Foundation
import Logging
import Testing
@testable import SessionKit

/// Nothing that holds a secret or a key derived from one prints it: not `print`, `debugPrint`,
/// `dump`, `String(describing:)`, `String(reflecting:)`, string interpolation or a `Mirror`.
@Suite("Secret redaction")
struct SecretRedactionTests {
    static let text = "redaction-test-secret-Kq7Zx9Lw3Vb5Nc1Mp8"
    static let secret = SessionSecret(text: text)
    static let older = SessionSecret(text: "redaction-older-secret-Hd4Jf6Gs2Ra0Te9Yu3")

    /// Every way Swift turns `value` into text.
    static func renderings<T>(_ value: T) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        var dumpedOptional = ""
        dump(Optional(value), to: &dumpedOptional)
        var printed = ""
        print(value, to: &printed)
        var debugPrinted = ""
        debugPrint(value, to: &debugPrinted)
        let children = Mirror(reflecting: value).children.map { "\($0.label ?? "_"): \($0.value)" }.joined(separator: "\n")
        return [
            dumped, dumpedOptional, printed, debugPrinted, String(describing: value), String(reflecting: value),
            "\(value)", "\([value])", children,
        ]
    }

    /// The secret's bytes and the keys derived from them, in the forms they would print in.
    static func forbiddenByteRuns() -> [[UInt8]] {
        var runs = [secret.bytes, older.bytes]
        let ring = try! KeyRing(current: secret, previous: [older])
        for purpose in ["sessionkit/encrypted/v1", "sessionkit/signed/v1", "sessionkit/session-id/v1"] {
            for derived in ring.derive(purpose: purpose) {
                runs.append(derived.key.withUnsafeBytes { Array($0) })
            }
        }
        runs.append(FlaskSessionCodec.derivedKeyBytes(secret.bytes))
        return runs
    }

    /// Fails when `text` holds a secret, a derived key, or a value of a key-holding type.
    static func checkRedacted(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        var leaks: [String] = []
        for phrase in [Self.text, older.bytes.map { String(UnicodeScalar($0)) }.joined()] where text.contains(phrase) { leaks.append("secret text") }
        // Decimal bytes, as arrays print (`[114, 101, ...]`) or dump (`- 114` a line).
        let numbers = text.split { !$0.isNumber }.compactMap { Int($0) }
        for run in forbiddenByteRuns() {
            let prefix = run.prefix(8).map(Int.init)
            if numbers.count >= prefix.count, (0...(numbers.count - prefix.count)).contains(where: { Array(numbers[$0..<($0 + prefix.count)]) == prefix }) {
                leaks.append("decimal bytes")
            }
            let hex = run.prefix(8).map { String(format: "%02x", $0) }.joined()
            if text.lowercased().contains(hex) { leaks.append("hex bytes") }
            let base64 = Data(run).base64EncodedString().prefix(10)
            if text.contains(base64) || text.contains(Base64URL.encode(run).prefix(10)) { leaks.append("base64 bytes") }
        }
        // Key material that is not the key's bytes: HMAC states keyed with it (an HMAC's inner and
        // outer hash states are as good as its key for forging MACs).
        let markers = ["SymmetricKey", "SecureBytes", "Crypto.HMAC", "Hasher", "DigestContext", "_state_st", "keyedMACs", "verificationMACs", "signingMAC"]
        for name in markers where text.contains(name) {
            leaks.append(name)
        }
        #expect(leaks.isEmpty, "\(what) prints key material (\(leaks)): \(text)", sourceLocation: sourceLocation)
    }

    static func checkEveryRendering<T>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) {
        for (index, rendering) in renderings(value).enumerated() {
            checkRedacted(rendering, "\(T.self) (rendering \(index))", sourceLocation: sourceLocation)
        }
    }

    @Test func sessionSecret() {
        Self.checkEveryRendering(Self.secret)
        Self.checkEveryRendering(SessionSecret(bytes: Self.secret.bytes))
    }

    @Test func keyRing() throws {
        Self.checkEveryRendering(try KeyRing(current: Self.secret, previous: [Self.older]))
    }

    @Test func derivedKeys() throws {
        Self.checkEveryRendering(try KeyRing(current: Self.secret, previous: [Self.older]).derive(purpose: "sessionkit/signed/v1"))
    }

    @Test func codecs() throws {
        let keys = try KeyRing(current: Self.secret, previous: [Self.older])
        Self.checkEveryRendering(EncryptedSessionCodec(keys: keys))
        Self.checkEveryRendering(EncryptedSessionCodec(keys: keys, algorithm: .chaCha20Poly1305))
        Self.checkEveryRendering(SignedSessionCodec(keys: keys))
        Self.checkEveryRendering(try FlaskSessionCodec(secretKey: Self.secret.bytes, fallbacks: [Self.older.bytes]))
        let existential: any SessionCodec = SignedSessionCodec(keys: keys)
        Self.checkEveryRendering(existential)
    }

    @Test func sessionIDSigner() throws {
        Self.checkEveryRendering(SessionIDSigner(keys: try KeyRing(current: Self.secret, previous: [Self.older])))
    }

    @Test func engines() throws {
        let keys = try KeyRing(current: Self.secret, previous: [Self.older])
        Self.checkEveryRendering(SessionEngine(codec: SignedSessionCodec(keys: keys)))
        Self.checkEveryRendering(SessionEngine(codec: EncryptedSessionCodec(keys: keys)))
        Self.checkEveryRendering(SessionEngine(codec: try FlaskSessionCodec(secretKey: Self.text)))
        Self.checkEveryRendering(SessionEngine(store: MemorySessionStore(), signingKeys: keys))
        Self.checkEveryRendering(SessionEngine.Storage.cookie(SignedSessionCodec(keys: keys)))
    }
}
