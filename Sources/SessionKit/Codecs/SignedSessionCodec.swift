import Crypto

/// A cookie format whose contents the browser can read but not change: the session signed with
/// HMAC-SHA256. Use it when the session holds nothing secret and you want to inspect cookies;
/// otherwise prefer ``EncryptedSessionCodec``.
///
/// The cookie is `base64url(version ‖ key id ‖ payload ‖ HMAC)`; the MAC covers the cookie name
/// and a purpose as well, and the payload carries issued-at, the deadline and the session's first
/// issue, checked as ``EncryptedSessionCodec`` checks them. Printing or dumping a codec shows its
/// settings and how many keys it holds, never a key.
///
/// ```swift
/// let codec = try SignedSessionCodec(keys: KeyRing(current: SessionSecret(text: secret)))
/// ```
public struct SignedSessionCodec: SessionCodec, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let formatName = "signed"
    /// A label bound into every cookie: cookies made for one purpose do not verify for another.
    public let purpose: String
    /// How far in the future an issued-at may lie (clock skew between servers), in seconds.
    public let clockSkewLeeway: Int64
    private let keys: [DerivedKey]
    /// One HMAC per key, keyed once: each cookie's MAC starts from a copy, so the key's inner and
    /// outer pads are not hashed again for every cookie.
    private let keyedMACs: [HMAC<SHA256>]

    static let macSize = 32

    public init(keys: KeyRing, purpose: String = "session", clockSkewLeeway: Int64 = 60) {
        self.keys = keys.derive(purpose: "sessionkit/signed/v1")
        self.keyedMACs = self.keys.map { HMAC<SHA256>(key: $0.key) }
        self.purpose = purpose
        self.clockSkewLeeway = clockSkewLeeway
    }

    public func encode(_ data: SessionData, context: SessionCodecContext) throws -> String {
        let version = NativeCookieEnvelope.signedHMACSHA256
        let key = keys[0]
        var output: [UInt8] = [version, key.id]
        output.reserveCapacity(64 + data.values.count * 32)
        let times = NativeCookieEnvelope.times(for: data, context: context)
        SessionPayload.encode(data, issuedAt: times.issuedAt, expiresAt: times.expiresAt, firstIssuedAt: times.firstIssuedAt, into: &output)
        let keyed = keyedMACs[0]
        let mac = NativeCookieEnvelope.withAssociatedData(version: version, purpose: purpose, cookieName: context.cookieName) { aad in
            Self.mac(aad: aad, message: output[...], keyed: keyed)
        }
        output.append(contentsOf: mac)
        return Base64URL.encode(output)
    }

    public func decode(_ cookieValue: Substring, context: SessionCodecContext) -> SessionDecodeResult {
        let bytes: [UInt8]
        switch NativeCookieEnvelope.bytes(of: cookieValue, minimumLength: 2 + SessionPayload.headerSize + 1 + Self.macSize) {
        case .success(let decoded): bytes = decoded
        case .failure(let reason): return .rejected(reason)
        }
        let version = bytes[0]
        guard version == NativeCookieEnvelope.signedHMACSHA256 else { return .rejected(.unknownVersion) }
        let message = bytes[..<(bytes.count - Self.macSize)]
        let mac = bytes[(bytes.count - Self.macSize)...]
        // The closure takes only what it needs (capturing `self` would copy the whole codec).
        return NativeCookieEnvelope.withAssociatedData(version: version, purpose: purpose, cookieName: context.cookieName) {
            [keys, keyedMACs, clockSkewLeeway] aad in
            for (index, key) in keys.enumerated() where key.id == bytes[1] {
                // HashedAuthenticationCode == compares in constant time.
                guard Self.mac(aad: aad, message: message, keyed: keyedMACs[index]) == mac else { continue }
                guard let data = SessionPayload.decode(message.dropFirst(2)) else { return .rejected(.badPayload) }
                if let reason = NativeCookieEnvelope.check(data, context: context, clockSkewLeeway: clockSkewLeeway) { return .rejected(reason) }
                return .valid(data, needsReissue: index != 0)
            }
            return .rejected(.badSignature)
        }
    }

    public var description: String { "SignedSessionCodec(purpose: \"\(purpose)\", \(keys.count) keys, redacted)" }
    public var debugDescription: String { description }
    /// The settings and the number of keys; never a key or a keyed MAC's state.
    public var customMirror: Mirror {
        Mirror(self, children: ["purpose": purpose, "clockSkewLeeway": clockSkewLeeway, "keyCount": keys.count], displayStyle: .struct)
    }

    /// The payload of a signed cookie without checking its signature: for inspecting a cookie
    /// (`sessionkit decode --no-verify`), never for trusting one.
    public static func unverifiedPayload(_ cookieValue: Substring) -> SessionData? {
        guard case .success(let bytes) = NativeCookieEnvelope.bytes(of: cookieValue, minimumLength: 2 + SessionPayload.headerSize + 1 + macSize),
              bytes[0] == NativeCookieEnvelope.signedHMACSHA256 else { return nil }
        return SessionPayload.decode(bytes[2..<(bytes.count - macSize)])
    }

    /// The MAC of `aad ‖ message`, fed to the HMAC in one call: each `update(data:)` runs
    /// swift-crypto's generic code, with its run-time type look-ups (about 2,000 instructions a
    /// call), while copying the associated data in front of the message costs a few hundred.
    private static func mac(aad: UnsafeRawBufferPointer, message: ArraySlice<UInt8>, keyed: HMAC<SHA256>) -> HMAC<SHA256>.MAC {
        var hmac = keyed
        withUnsafeTemporaryAllocation(byteCount: aad.count + message.count, alignment: 1) { input in
            input.copyMemory(from: aad)
            message.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: input[aad.count...]).copyMemory(from: $0) }
            hmac.update(data: UnsafeRawBufferPointer(input))
        }
        return hmac.finalize()
    }
}
