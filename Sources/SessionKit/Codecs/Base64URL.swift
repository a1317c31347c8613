/// Base64url (RFC 4648 §5, alphabet `A-Z a-z 0-9 - _`) without `=` padding, on bytes.
///
/// The cookie formats use it for every dot-separated field. Decoding is strict: only the alphabet,
/// no padding, no length of the form `4n + 1`, and the unused low bits of the last character must be
/// zero, so every byte string has exactly one accepted encoding.
///
/// ```swift
/// let text = Base64URL.encode([0x65, 0x53, 0xf1, 0x00])          // "ZVPxAA"
/// let bytes = Base64URL.decode(Array("ZVPxAA".utf8))             // [0x65, 0x53, 0xf1, 0x00]
/// ```
package enum Base64URL {
    @usableFromInline
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 0...63 for an alphabet byte, 0xff for anything else.
    @usableFromInline
    static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Four tables of 256 entries, one for each position in a group of four characters: an alphabet
    /// byte's six bits already shifted to their place in the group's 24 bits, and bit 24 for any
    /// other byte. A group is then four lookups ORed together, and one test at the end of the text
    /// tells whether any character was outside the alphabet.
    @usableFromInline
    static let groupDecodeTables: [UInt32] = {
        var tables = [UInt32](repeating: 1 << 24, count: 4 * 256)
        for (value, byte) in alphabet.enumerated() {
            for position in 0..<4 { tables[position * 256 + Int(byte)] = UInt32(value) << (18 - 6 * position) }
        }
        return tables
    }()

    /// The number of characters `count` bytes encode to.
    @inlinable
    package static func encodedCount(_ count: Int) -> Int {
        (count / 3) * 4 + [0, 2, 3][count % 3]
    }

    /// Appends the encoding of `bytes` to `output`.
    @inlinable
    package static func encode(_ bytes: some Collection<UInt8>, into output: inout [UInt8]) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { encode(buffer: $0, into: &output) }
        if done == nil {
            Array(bytes).withUnsafeBufferPointer { encode(buffer: $0, into: &output) }
        }
    }

    /// The encoding of `bytes` as a String.
    @inlinable
    package static func encode(_ bytes: some Collection<UInt8>) -> String {
        if let encoded = bytes.withContiguousStorageIfAvailable({ encodeToString(buffer: $0) }) { return encoded }
        return Array(bytes).withUnsafeBufferPointer { encodeToString(buffer: $0) }
    }

    /// The text written straight into the new string's storage (no intermediate array).
    @inlinable
    static func encodeToString(buffer: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: encodedCount(buffer.count)) { text in
            write(buffer, to: UnsafeMutableRawBufferPointer(text))
        }
    }

    /// Writes the base64url text of `buffer` to the start of `text` (which has room for
    /// ``encodedCount(_:)`` bytes); returns that count.
    @inlinable
    static func write(_ buffer: UnsafeBufferPointer<UInt8>, to text: UnsafeMutableRawBufferPointer) -> Int {
        alphabet.withUnsafeBufferPointer { table in
            var index = 0
            var out = 0
            let full = buffer.count - buffer.count % 3
            while index < full {
                let value = UInt32(buffer[index]) << 16 | UInt32(buffer[index + 1]) << 8 | UInt32(buffer[index + 2])
                text[out] = table[Int(value >> 18)]
                text[out + 1] = table[Int((value >> 12) & 0x3f)]
                text[out + 2] = table[Int((value >> 6) & 0x3f)]
                text[out + 3] = table[Int(value & 0x3f)]
                index += 3
                out += 4
            }
            switch buffer.count - full {
            case 1:
                let value = UInt32(buffer[index]) << 16
                text[out] = table[Int(value >> 18)]
                text[out + 1] = table[Int((value >> 12) & 0x3f)]
                out += 2
            case 2:
                let value = UInt32(buffer[index]) << 16 | UInt32(buffer[index + 1]) << 8
                text[out] = table[Int(value >> 18)]
                text[out + 1] = table[Int((value >> 12) & 0x3f)]
                text[out + 2] = table[Int((value >> 6) & 0x3f)]
                out += 3
            default:
                break
            }
            return out
        }
    }

    @inlinable
    static func encode(buffer: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        let count = encodedCount(buffer.count)
        output.append(contentsOf: repeatElement(0, count: count))
        output.withUnsafeMutableBytes { bytes in
            _ = write(buffer, to: UnsafeMutableRawBufferPointer(rebasing: bytes[(bytes.count - count)...]))
        }
    }

    @inlinable
    package static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        if let result = text.withContiguousStorageIfAvailable({ decode(buffer: $0) }) { return result }
        return Array(text).withUnsafeBufferPointer { decode(buffer: $0) }
    }

    /// Decodes unpadded base64url strictly; `nil` for anything that is not a canonical encoding.
    @inlinable
    package static func decode(_ text: Substring) -> [UInt8]? {
        decode(text.utf8)
    }

    /// Decodes the first `groups` groups of four characters of `text` into `out`, three bytes a
    /// group, and returns whether every one of those characters is in the alphabet. No branch per
    /// group: the tables place each character's six bits, and the invalid bits of every group
    /// collect in one word. `out` must have room for `groups * 3` bytes.
    @inlinable
    static func decodeGroups(_ text: UnsafeBufferPointer<UInt8>, groups: Int, into out: UnsafeMutableRawBufferPointer) -> Bool {
        groupDecodeTables.withUnsafeBufferPointer { tables in
            var invalid: UInt32 = 0
            var index = 0
            var written = 0
            for _ in 0..<groups {
                let value = tables[Int(text[index])] | tables[256 + Int(text[index + 1])]
                    | tables[512 + Int(text[index + 2])] | tables[768 + Int(text[index + 3])]
                invalid |= value
                out[written] = UInt8(truncatingIfNeeded: value >> 16)
                out[written + 1] = UInt8(truncatingIfNeeded: value >> 8)
                out[written + 2] = UInt8(truncatingIfNeeded: value)
                written += 3
                index += 4
            }
            return invalid & (1 << 24) == 0
        }
    }

    @inlinable
    static func decode(buffer: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let remainder = buffer.count % 4
        if remainder == 1 { return nil }
        let capacity = buffer.count / 4 * 3 + (remainder == 0 ? 0 : remainder - 1)
        var valid = true
        // Written in place: appending byte by byte costs a capacity and uniqueness check per byte.
        let output = [UInt8](unsafeUninitializedCapacity: capacity) { out, initialized in
            let full = buffer.count - remainder
            valid = decodeGroups(buffer, groups: full / 4, into: UnsafeMutableRawBufferPointer(out))
            let index = full
            var written = full / 4 * 3
            decodeTable.withUnsafeBufferPointer { table in
                if valid, remainder == 2 {
                    let a = table[Int(buffer[index])], b = table[Int(buffer[index + 1])]
                    if (a | b) & 0xc0 != 0 || b & 0x0f != 0 {
                        valid = false
                    } else {
                        out[written] = a << 2 | b >> 4
                        written += 1
                    }
                } else if valid, remainder == 3 {
                    let a = table[Int(buffer[index])], b = table[Int(buffer[index + 1])], c = table[Int(buffer[index + 2])]
                    if (a | b | c) & 0xc0 != 0 || c & 0x03 != 0 {
                        valid = false
                    } else {
                        out[written] = a << 2 | b >> 4
                        out[written + 1] = (b & 0x0f) << 4 | c >> 2
                        written += 2
                    }
                }
                initialized = written
            }
        }
        return valid ? output : nil
    }
}
