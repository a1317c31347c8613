import Crypto
import Foundation

/// The default cookie format: the session encrypted and authenticated with AES-256-GCM (or
/// ChaCha20-Poly1305), so the browser can neither read nor change it.
///
/// The cookie is `base64url(version ‖ key id ‖ nonce ‖ ciphertext ‖ tag)`. The cookie name and a
/// purpose are bound in as associated data; issued-at, the deadline and the session's first issue
/// are inside the encrypted payload, so a cookie's `Expires` is never trusted, and each decode also
/// checks the cookie's age and its session's against the context's current lifetimes. Printing or
/// dumping a codec shows its settings and how many keys it holds, never a key.
///
/// ```swift
/// let codec = try EncryptedSessionCodec(keys: KeyRing(current: .environment("SESSIONKIT_SECRET")))
/// ```
public struct EncryptedSessionCodec: SessionCodec, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The AEAD algorithm new cookies are sealed with. Cookies of either algorithm are opened.
    public enum Algorithm: Sendable {
        case aes256GCM
        case chaCha20Poly1305
    }

    public let formatName = "encrypted"
    /// The algorithm new cookies are sealed with.
    public let algorithm: Algorithm
    /// A label bound into every cookie: cookies made for one purpose do not open for another.
    public let purpose: String
    /// How far in the future an issued-at may lie (clock skew between servers), in seconds.
    public let clockSkewLeeway: Int64
    private let keys: [DerivedKey]

    static let nonceSize = 12
    static let tagSize = 16

    public init(keys: KeyRing, algorithm: Algorithm = .aes256GCM, purpose: String = "session", clockSkewLeeway: Int64 = 60) {
        self.keys = keys.derive(purpose: "sessionkit/encrypted/v1")
        self.algorithm = algorithm
        self.purpose = purpose
        self.clockSkewLeeway = clockSkewLeeway
    }

    public func encode(_ data: SessionData, context: SessionCodecContext) throws -> String {
        let version = algorithm == .aes256GCM ? NativeCookieEnvelope.encryptedAESGCM : NativeCookieEnvelope.encryptedChaChaPoly
        var plaintext: [UInt8] = []
        plaintext.reserveCapacity(64 + data.values.count * 32)
        let times = NativeCookieEnvelope.times(for: data, context: context)
        SessionPayload.encode(data, issuedAt: times.issuedAt, expiresAt: times.expiresAt, firstIssuedAt: times.firstIssuedAt, into: &plaintext)
        let key = keys[0]
        var output: [UInt8] = [version, key.id]
        output.reserveCapacity(2 + Self.nonceSize + plaintext.count + Self.tagSize)
        // A fresh random nonce for every cookie, from the buffered CSPRNG (no system call per cookie).
        var nonce = (UInt32(0), UInt32(0), UInt32(0))
        withUnsafeMutableBytes(of: &nonce) { BufferedRandom.fill($0) }
        let algorithm = self.algorithm  // (capturing `self` would copy the whole codec)
        try NativeCookieEnvelope.withAssociatedData(version: version, purpose: purpose, cookieName: context.cookieName) { aad in
            try withUnsafeBytes(of: nonce) { nonceBytes in
                switch algorithm {
                case .aes256GCM:
                    let box = try AES.GCM.seal(plaintext, using: key.key, nonce: try AES.GCM.Nonce(data: nonceBytes), authenticating: aad)
                    // nonce ‖ ciphertext ‖ tag in one copy (the box's own storage).
                    output.append(contentsOf: box.combined!)
                case .chaCha20Poly1305:
                    let box = try ChaChaPoly.seal(plaintext, using: key.key, nonce: try ChaChaPoly.Nonce(data: nonceBytes), authenticating: aad)
                    output.append(contentsOf: box.combined)
                }
            }
        }
        return Base64URL.encode(output)
    }

    public func decode(_ cookieValue: Substring, context: SessionCodecContext) -> SessionDecodeResult {
        let minimum = 2 + Self.nonceSize + SessionPayload.headerSize + 1 + Self.tagSize
        let bytes: [UInt8]
        switch NativeCookieEnvelope.bytes(of: cookieValue, minimumLength: minimum) {
        case .success(let decoded): bytes = decoded
        case .failure(let reason): return .rejected(reason)
        }
        let version = bytes[0]
        guard version == NativeCookieEnvelope.encryptedAESGCM || version == NativeCookieEnvelope.encryptedChaChaPoly else {
            return .rejected(.unknownVersion)
        }
        // nonce ‖ ciphertext ‖ tag is the AEADs' "combined" form (12-byte nonce, 16-byte tag).
        let sealed = bytes[2...]
        // The closure takes only what it needs (capturing `self` copied the whole codec).
        return NativeCookieEnvelope.withAssociatedData(version: version, purpose: purpose, cookieName: context.cookieName) { [keys, clockSkewLeeway] aad in
            for (index, key) in keys.enumerated() where key.id == bytes[1] {
                switch Self.open(version: version, sealed: sealed, key: key.key, aad: aad) {
                case .notOpened: continue
                case .badPayload: return .rejected(.badPayload)
                case .opened(let data):
                    if let reason = NativeCookieEnvelope.check(data, context: context, clockSkewLeeway: clockSkewLeeway) { return .rejected(reason) }
                    return .valid(data, needsReissue: index != 0)
                }
            }
            return .rejected(.badSignature)
        }
    }

    public var description: String {
        "EncryptedSessionCodec(\(algorithm), purpose: \"\(purpose)\", \(keys.count) keys, redacted)"
    }
    public var debugDescription: String { description }
    /// The settings and the number of keys; never a key.
    public var customMirror: Mirror {
        Mirror(self, children: ["algorithm": algorithm, "purpose": purpose, "clockSkewLeeway": clockSkewLeeway, "keyCount": keys.count], displayStyle: .struct)
    }

    private enum Opened {
        /// The key did not open the box (another key may).
        case notOpened
        /// It opened, but the plaintext is not a payload.
        case badPayload
        case opened(SessionData)
    }

    private static func open(version: UInt8, sealed: ArraySlice<UInt8>, key: SymmetricKey, aad: UnsafeRawBufferPointer) -> Opened {
        let plaintext: Data
        do {
            // SealedBox(combined:) keeps the bytes as they are; SealedBox(nonce:ciphertext:tag:)
            // copies them into a new Data piece by piece (a measured third of the decode's cost).
            if version == NativeCookieEnvelope.encryptedAESGCM {
                plaintext = try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: aad)
            } else {
                plaintext = try ChaChaPoly.open(ChaChaPoly.SealedBox(combined: sealed), using: key, authenticating: aad)
            }
        } catch {
            return .notOpened
        }
        // Read in place: the plaintext is not copied into an array first.
        guard let data = plaintext.withUnsafeBytes({ SessionPayload.decode($0) }) else { return .badPayload }
        return .opened(data)
    }
}
