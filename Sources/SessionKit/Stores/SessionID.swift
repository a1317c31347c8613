import Crypto

/// A server-side session ID: 256 bits from the system CSPRNG, carried in the cookie as 43
/// characters of unpadded base64url.
///
/// The ID itself is a bearer token and never reaches a store: stores see only its
/// ``storageKey``, the SHA-256 of the ID's bytes. A leaked table is therefore no list of live
/// tokens, and a storage key presented as a cookie is rejected (hashing it again gives another key).
/// `description`, `debugDescription` and `dump()` never show the ID; compare IDs with `==`, which
/// runs in constant time.
///
/// ```swift
/// let id = SessionID()                                   // a fresh ID
/// cookieValue = id.cookieValue                           // "Xk3…" (43 characters)
/// guard let presented = SessionID(cookieValue: cookie) else { return nil } // no store access
/// let session = try await store.load(presented.storageKey)
/// ```
public struct SessionID: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The 32 bytes as four big-endian words.
    private let w0: UInt64
    private let w1: UInt64
    private let w2: UInt64
    private let w3: UInt64

    /// The length of ``cookieValue``.
    public static let cookieValueLength = 43

    /// A new random ID from the system's cryptographically secure generator (`getentropy`, buffered).
    public init() {
        // 256 bits from the operating system's CSPRNG, through the buffer (one system call per 8 IDs).
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { BufferedRandom.fill($0) }
        self.init(words: words.0, words.1, words.2, words.3)
    }

    init(words w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Parses a cookie value. Accepts exactly the shape ``cookieValue`` produces: 43 characters of
    /// the base64url alphabet (`A-Z a-z 0-9 - _`), no padding, and a last character whose two low
    /// bits are zero (so that every ID has exactly one spelling). Anything else is `nil`.
    public init?(cookieValue: some StringProtocol) {
        let utf8 = cookieValue.utf8
        guard utf8.count == Self.cookieValueLength else { return nil }
        let parsed = utf8.withContiguousStorageIfAvailable(Self.parse) ?? Array(utf8).withUnsafeBufferPointer(Self.parse)
        guard let words = parsed else { return nil }
        self.init(words: words.0, words.1, words.2, words.3)
    }

    /// The four words of 43 base64url characters (the first eight bytes, big-endian, are the first
    /// word), or `nil`; the last character's two low bits must be zero.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64, UInt64, UInt64)? {
        guard bytes.count == cookieValueLength else { return nil }
        var raw: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let valid = withUnsafeMutableBytes(of: &raw) { out -> Bool in
            // Ten groups of four characters make the first 30 bytes, without an allocation.
            guard Base64URL.decodeGroups(bytes, groups: 10, into: out) else { return false }
            // The last three make two bytes and two bits that must be zero (258 bits in all).
            return Base64URL.decodeTable.withUnsafeBufferPointer { table in
                let a = table[Int(bytes[40])], b = table[Int(bytes[41])], c = table[Int(bytes[42])]
                guard (a | b | c) & 0xc0 == 0, c & 0x03 == 0 else { return false }
                out[30] = a << 2 | b >> 4
                out[31] = (b & 0x0f) << 4 | c >> 2
                return true
            }
        }
        guard valid else { return nil }
        return (UInt64(bigEndian: raw.0), UInt64(bigEndian: raw.1), UInt64(bigEndian: raw.2), UInt64(bigEndian: raw.3))
    }

    /// The ID as the cookie carries it: 43 characters of base64url without padding.
    public var cookieValue: String {
        String(unsafeUninitializedCapacity: Self.cookieValueLength) { buffer in
            for index in 0..<Self.cookieValueLength {
                buffer[index] = Self.alphabet[Int(sextet(at: index * 6))]
            }
            return Self.cookieValueLength
        }
    }

    /// The key stores keep: the SHA-256 of the ID's 32 bytes.
    public var storageKey: SessionStorageKey {
        let bytes = (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)
        let digest = withUnsafeBytes(of: bytes) { SHA256.hash(data: $0) }
        return digest.withUnsafeBytes { SessionStorageKey(rawBytes: $0) }
    }

    /// Constant-time comparison: the time taken does not depend on where the IDs differ.
    public static func == (lhs: SessionID, rhs: SessionID) -> Bool {
        ((lhs.w0 ^ rhs.w0) | (lhs.w1 ^ rhs.w1) | (lhs.w2 ^ rhs.w2) | (lhs.w3 ^ rhs.w3)) == 0
    }

    public var description: String { "SessionID(<redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:], displayStyle: .struct) }

    // MARK: Base64url

    private func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: return w0
        case 1: return w1
        case 2: return w2
        case 3: return w3
        default: return 0
        }
    }

    /// The six bits starting at bit `offset` of the 256-bit ID (zero past its end).
    private func sextet(at offset: Int) -> UInt8 {
        let index = offset / 64
        let within = offset % 64
        if within <= 58 { return UInt8((word(index) >> UInt64(58 - within)) & 63) }
        let high = word(index) << UInt64(within - 58)
        let low = word(index + 1) >> UInt64(64 - (within - 58))
        return UInt8((high | low) & 63)
    }

    private static func store(_ value: UInt64, at index: Int, in words: inout (UInt64, UInt64, UInt64, UInt64)) {
        switch index {
        case 0: words.0 = value
        case 1: words.1 = value
        case 2: words.2 = value
        default: words.3 = value
        }
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
}
