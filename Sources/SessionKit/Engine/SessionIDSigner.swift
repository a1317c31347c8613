import Crypto

/// Defence in depth for server-side sessions: the ID cookie carries a MAC made with the key ring,
/// so a guessed, leaked-from-logs or forged ID is refused without any store access, and rotating
/// the secret invalidates every ID cookie an attacker may hold.
///
/// The cookie is `ID.MAC`: the 43-character ID, a dot, and 22 base64url characters of
/// HMAC-SHA256(derived key, purpose ‖ cookie name ‖ ID) truncated to 128 bits. Printing or dumping
/// a signer shows how many keys it holds, never a key or a keyed MAC's state.
///
/// ```swift
/// let signer = SessionIDSigner(keys: try KeyRing(current: .environment("SESSIONKIT_SECRET")))
/// let value = signer.sign(SessionID(), cookieName: "session")
/// ```
public struct SessionIDSigner: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// One HMAC per key, keyed once (each MAC starts from a copy).
    private let keyedMACs: [HMAC<SHA256>]
    static let macLength = 16

    public init(keys: KeyRing) {
        self.keyedMACs = keys.derive(purpose: "sessionkit/session-id/v1").map { HMAC<SHA256>(key: $0.key) }
    }

    public var description: String { "SessionIDSigner(\(keyedMACs.count) keys, redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["keyCount": keyedMACs.count], displayStyle: .struct) }

    /// The cookie value for `id`, signed with the newest key.
    public func sign(_ id: SessionID, cookieName: String) -> String {
        let idText = id.cookieValue
        return idText + "." + Base64URL.encode(mac(idText, cookieName: cookieName, keyed: keyedMACs[0]))
    }

    /// The ID in a signed cookie value and whether an older key signed it; `nil` when the value is
    /// not of the shape, or no key verifies it.
    public func verify(_ cookieValue: some StringProtocol, cookieName: String) -> (id: SessionID, signedWithOlderKey: Bool)? {
        let value = Substring(cookieValue)
        guard value.utf8.count == SessionID.cookieValueLength + 1 + 22,
              let dot = value.firstIndex(of: "."),
              value.distance(from: value.startIndex, to: dot) == SessionID.cookieValueLength,
              let presented = Base64URL.decode(value[value.index(after: dot)...]),
              presented.count == Self.macLength else { return nil }
        let idText = String(value[..<dot])
        for (index, keyed) in keyedMACs.enumerated() {
            let expected = mac(idText, cookieName: cookieName, keyed: keyed)
            if Self.constantTimeEqual(expected, presented) {
                guard let id = SessionID(cookieValue: idText) else { return nil }
                return (id, index != 0)
            }
        }
        return nil
    }

    private func mac(_ idText: String, cookieName: String, keyed: HMAC<SHA256>) -> [UInt8] {
        var hmac = keyed
        hmac.update(data: Array(cookieName.utf8))
        hmac.update(data: [0])
        hmac.update(data: Array(idText.utf8))
        return Array(hmac.finalize().prefix(Self.macLength))
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
