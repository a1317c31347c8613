import Crypto

/// The secrets a codec signs or encrypts with: the newest signs and encrypts, every one verifies.
/// A cookie that verified under an older secret is re-issued under the newest.
///
/// Secrets shorter than 32 bytes are refused: a clear configuration error at start-up. Printing or
/// dumping a ring shows how many secrets it holds, never their bytes.
///
/// ```swift
/// let keys = try KeyRing(current: .environment("SESSIONKIT_SECRET"),
///                        previous: [SessionSecret(text: oldSecret)])
/// ```
public struct KeyRing: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret that signs and encrypts.
    public let current: SessionSecret
    /// Older secrets that still verify, newest first.
    public let previous: [SessionSecret]

    /// A ring of `current` and `previous` (newest first); throws if any is shorter than 32 bytes.
    public init(current: SessionSecret, previous: [SessionSecret] = []) throws {
        try current.validate()
        for secret in previous { try secret.validate() }
        self.current = current
        self.previous = previous
    }

    /// Every secret, newest first.
    public var all: [SessionSecret] { [current] + previous }

    public var description: String { "KeyRing(\(1 + previous.count) secrets, redacted)" }
    public var debugDescription: String { description }
    /// The secrets, each redacted (``SessionSecret`` shows its length only).
    public var customMirror: Mirror { Mirror(self, children: ["current": current, "previous": previous], displayStyle: .struct) }

    /// The keys derived for one purpose (a format and version): HKDF-SHA256 of each secret.
    func derive(purpose: String) -> [DerivedKey] {
        all.map { secret in
            let key = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: secret.bytes),
                salt: Array("sessionkit".utf8),
                info: Array(purpose.utf8),
                outputByteCount: 32
            )
            let fingerprint = HMAC<SHA256>.authenticationCode(for: Array("key-id".utf8), using: key)
            return DerivedKey(key: key, id: fingerprint.withUnsafeBytes { $0[0] })
        }
    }
}

/// A key derived from a secret for one purpose, with a one-byte hint that lets a codec skip keys
/// that cannot have made a cookie.
/// Printing or dumping it shows the hint only.
struct DerivedKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let key: SymmetricKey
    let id: UInt8

    var description: String { "DerivedKey(id: \(id), redacted)" }
    var debugDescription: String { description }
    var customMirror: Mirror { Mirror(self, children: ["id": id], displayStyle: .struct) }
}
