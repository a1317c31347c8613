/// The plaintext both native formats carry: issued-at and deadline (big-endian Unix seconds), then
/// each key and its JSON value with varint lengths, then when the session was first issued (the
/// start of its absolute lifetime).
///
/// ```
/// issuedAt(8) expiresAt(8) count(varint) { keyLength(varint) key valueLength(varint) value }* firstIssuedAt(8)
/// ```
///
/// `firstIssuedAt` comes last so that cookies issued before it existed (which end after the
/// values) still read: their ``SessionData/firstIssuedAt`` is `nil`, and their issue time counts as
/// their first issue. Nothing else may follow the values.
enum SessionPayload {
    static let headerSize = 16

    static func encode(_ data: SessionData, issuedAt: Int64, expiresAt: Int64, firstIssuedAt: Int64, into output: inout [UInt8]) {
        appendInt64(issuedAt, to: &output)
        appendInt64(expiresAt, to: &output)
        appendVarint(UInt64(data.values.count), to: &output)
        for (key, value) in data.values {
            appendVarint(UInt64(key.utf8.count), to: &output)
            output.append(contentsOf: key.utf8)
            let bytes = value.jsonBytes
            appendVarint(UInt64(bytes.count), to: &output)
            output.append(contentsOf: bytes)
        }
        appendInt64(firstIssuedAt, to: &output)
    }

    /// Reads a payload; `nil` when it is not well formed.
    static func decode(_ input: ArraySlice<UInt8>) -> SessionData? {
        input.withUnsafeBufferPointer { decode($0) }
    }

    /// Reads a payload from bytes in place (a decrypted `Data` need not be copied into an array first).
    static func decode(_ input: UnsafeRawBufferPointer) -> SessionData? {
        decode(input.assumingMemoryBound(to: UInt8.self))
    }

    /// Reads a payload; `nil` when it is not well formed.
    static func decode(_ input: UnsafeBufferPointer<UInt8>) -> SessionData? {
        var reader = Reader(bytes: input)
        guard let issuedAt = reader.int64(), let expiresAt = reader.int64(), let count = reader.varint(),
              count <= UInt64(input.count) else { return nil }
        // Sized once (reserving on an empty dictionary allocates twice).
        var values = [String: SessionValue](minimumCapacity: Int(count))
        for _ in 0..<count {
            guard let keyBytes = reader.lengthPrefixed(), let valueBytes = reader.lengthPrefixed(),
                  let key = Self.string(keyBytes) else { return nil }
            values[key] = SessionValue(json: valueBytes)
        }
        // A cookie issued before the first-issue time was recorded ends here.
        var firstIssuedAt: Int64?
        if !reader.isAtEnd {
            guard let first = reader.int64() else { return nil }
            firstIssuedAt = first
        }
        guard reader.isAtEnd else { return nil }
        return SessionData(values: values, issuedAt: issuedAt, expiresAt: expiresAt, firstIssuedAt: firstIssuedAt)
    }

    /// The UTF-8 text of `bytes`, or nil when it is not valid UTF-8. ASCII (every key a program
    /// writes, in practice) skips the generic validating initializer, which was a measured eighth
    /// of an encrypted cookie's decode.
    static func string(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
        let buffer = UnsafeBufferPointer(rebasing: bytes)
        if buffer.allSatisfy({ $0 < 0x80 }) { return String(decoding: buffer, as: UTF8.self) }
        return String(validating: buffer, as: UTF8.self)
    }

    static func appendInt64(_ value: Int64, to output: inout [UInt8]) {
        // Big-endian, in one append (byte by byte was eight capacity checks).
        withUnsafeBytes(of: UInt64(bitPattern: value).bigEndian) { output.append(contentsOf: $0) }
    }

    static func appendVarint(_ value: UInt64, to output: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        output.append(UInt8(value))
    }

    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index: Int

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            self.index = bytes.startIndex
        }

        var isAtEnd: Bool { index == bytes.endIndex }

        mutating func int64() -> Int64? {
            guard bytes.endIndex - index >= 8 else { return nil }
            var bits: UInt64 = 0
            for offset in 0..<8 { bits = bits << 8 | UInt64(bytes[index + offset]) }
            index += 8
            return Int64(bitPattern: bits)
        }

        mutating func varint() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.endIndex, shift < 64 {
                let byte = bytes[index]
                index += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
            return nil
        }

        mutating func lengthPrefixed() -> Slice<UnsafeBufferPointer<UInt8>>? {
            guard let length = varint(), length <= UInt64(bytes.endIndex - index) else { return nil }
            let end = index + Int(length)
            defer { index = end }
            return bytes[index..<end]
        }
    }
}
