/// What a store keeps instead of a session ID: the SHA-256 of the ID's bytes.
///
/// A storage key cannot be turned back into an ID, and presenting one as a cookie fails (the engine
/// hashes what it is given). It is safe to show to the session's own user (for example to mark
/// "this device" in a list of sessions or to name one to revoke), but it is not meant for logs:
/// `description` shows only its first four bytes.
///
/// ```swift
/// let key = SessionID().storageKey
/// let sessions = try await store.sessions(ofUser: "42")
/// let isThisDevice = sessions.contains { $0.key == key }
/// ```
public struct SessionStorageKey: Sendable, Hashable, CustomStringConvertible {
    /// The 32 bytes as four big-endian words.
    @usableFromInline let w0: UInt64
    @usableFromInline let w1: UInt64
    @usableFromInline let w2: UInt64
    @usableFromInline let w3: UInt64

    /// The number of bytes in a key.
    public static let byteCount = 32

    init(rawBytes: UnsafeRawBufferPointer) {
        precondition(rawBytes.count == Self.byteCount)
        w0 = UInt64(bigEndian: rawBytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        w1 = UInt64(bigEndian: rawBytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        w2 = UInt64(bigEndian: rawBytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        w3 = UInt64(bigEndian: rawBytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    /// A key from its 32 bytes (as a store reads it back); `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        let array = Array(bytes)
        self = array.withUnsafeBytes { SessionStorageKey(rawBytes: $0) }
    }

    /// A key from its 64 lower-case or upper-case hexadecimal digits; `nil` for anything else.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == Self.byteCount * 2 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.byteCount)
        var index = 0
        while index < utf8.count {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes: bytes)
    }

    /// The key's 32 bytes.
    public var bytes: [UInt8] {
        Swift.withUnsafeBytes(of: (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)) { Array($0) }
    }

    /// Lends the key's 32 bytes without allocating (for stores that bind them as a parameter).
    package func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Swift.withUnsafeBytes(of: (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian), body)
    }

    /// The key as 64 lower-case hexadecimal digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: Self.byteCount * 2) { buffer in
            for (index, byte) in bytes.enumerated() {
                buffer[index * 2] = digits[Int(byte >> 4)]
                buffer[index * 2 + 1] = digits[Int(byte & 15)]
            }
            return Self.byteCount * 2
        }
    }

    /// Sixteen well-mixed bits of the key, for choosing a shard.
    @inlinable var shardBits: Int { Int(truncatingIfNeeded: w0 >> 48) }

    /// Branch-free comparison of all 32 bytes.
    @inlinable public static func == (lhs: SessionStorageKey, rhs: SessionStorageKey) -> Bool {
        ((lhs.w0 ^ rhs.w0) | (lhs.w1 ^ rhs.w1) | (lhs.w2 ^ rhs.w2) | (lhs.w3 ^ rhs.w3)) == 0
    }

    @inlinable public func hash(into hasher: inout Hasher) {
        // The key is a SHA-256 output: two words are plenty for the (seeded) hasher.
        hasher.combine(w1)
        hasher.combine(w2)
    }

    public var description: String { "SessionStorageKey(\(hex.prefix(8))…)" }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
