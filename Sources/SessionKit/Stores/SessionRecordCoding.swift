/// The compact byte form stores keep a session's values in: one blob per session instead of a
/// dictionary of arrays.
///
/// Layout: a version byte (1), the number of values, then for each value its key and its JSON text;
/// then the number of trailing optional strings and each of them. Lengths and counts are LEB128
/// varints; an optional string is `0` for `nil` or `length + 1` followed by its UTF-8 bytes.
///
/// ```swift
/// let blob = SessionRecordCoding.encode(values, trailer: [userAgent, ipAddress])
/// let (decoded, trailer) = try SessionRecordCoding.decode(blob)
/// ```
package enum SessionRecordCoding {
    static let version: UInt8 = 1

    package static func encode(_ values: [String: SessionValue], trailer: [String?] = []) -> [UInt8] {
        var encodedValues: [(key: String.UTF8View, json: [UInt8])] = []
        encodedValues.reserveCapacity(values.count)
        // The exact size, so that the blob a store keeps has no slack.
        var size = 1 + varintSize(values.count) + varintSize(trailer.count)
        for (key, value) in values {
            let json = value.jsonBytes
            size += varintSize(key.utf8.count) + key.utf8.count + varintSize(json.count) + json.count
            encodedValues.append((key.utf8, json))
        }
        for string in trailer {
            if let string { size += varintSize(string.utf8.count + 1) + string.utf8.count } else { size += 1 }
        }
        var out = [UInt8]()
        out.reserveCapacity(size)
        out.append(version)
        appendVarint(encodedValues.count, to: &out)
        for (key, json) in encodedValues {
            appendVarint(key.count, to: &out)
            out.append(contentsOf: key)
            appendVarint(json.count, to: &out)
            out.append(contentsOf: json)
        }
        appendVarint(trailer.count, to: &out)
        for string in trailer {
            if let string {
                appendVarint(string.utf8.count + 1, to: &out)
                out.append(contentsOf: string.utf8)
            } else {
                out.append(0)
            }
        }
        assert(out.count == size)
        return out
    }

    package static func decode(_ bytes: some Collection<UInt8>) throws -> (values: [String: SessionValue], trailer: [String?]) {
        var reader = Reader(bytes: Array(bytes))
        guard try reader.byte() == version else { throw corrupt }
        let count = try reader.varint()
        var values = [String: SessionValue](minimumCapacity: min(count, 1024))
        for _ in 0..<count {
            let key = String(decoding: try reader.slice(try reader.varint()), as: UTF8.self)
            values[key] = SessionValue(json: try reader.slice(try reader.varint()))
        }
        var trailer: [String?] = []
        let trailerCount = reader.isAtEnd ? 0 : try reader.varint()
        for _ in 0..<trailerCount {
            let length = try reader.varint()
            trailer.append(length == 0 ? nil : String(decoding: try reader.slice(length - 1), as: UTF8.self))
        }
        return (values, trailer)
    }

    package static func apply(_ delta: SessionDelta, to values: inout [String: SessionValue]) {
        switch delta {
        case .replaceAll(let newValues):
            values = newValues
        case .update(let set, let remove):
            for key in remove { values.removeValue(forKey: key) }
            for (key, value) in set { values[key] = value }
        case .updateApplying(let set, let remove, let operations):
            apply(.update(set: set, remove: remove), to: &values)
            for operation in operations { values[operation.key] = operation.applied(to: values[operation.key]) }
        }
    }

    /// The blob with `delta` applied, written from the old blob's bytes: entries that stay are
    /// copied as they are and the trailer is kept, without building a dictionary of the values
    /// (what a store does under its lock on every write). It decodes to what decoding,
    /// ``apply(_:to:)`` and encoding with the same trailer give; malformed blobs throw alike.
    package static func applying(_ delta: SessionDelta, toBlob blob: [UInt8]) throws -> [UInt8] {
        if case .updateApplying(let set, let remove, let operations) = delta {
            try SessionOperationWire.check(operations)
            let updated = try applying(.update(set: set, remove: remove), toBlob: blob)
            return try applying(operations, toBlob: updated)
        }
        var reader = Reader(bytes: blob)
        guard try reader.byte() == version else { throw corrupt }
        let count = try reader.varint()
        // The kept entries, as byte ranges of the old blob.
        var kept: [Range<Int>] = []
        kept.reserveCapacity(min(count, 64))
        let set: [String: SessionValue]
        let remove: Set<String>
        switch delta {
        case .replaceAll(let values): (set, remove) = (values, [])
        case .update(let newValues, let removed): (set, remove) = (newValues, removed)
        case .updateApplying: preconditionFailure("handled above")
        }
        let replaceAll: Bool
        if case .replaceAll = delta { replaceAll = true } else { replaceAll = false }
        for _ in 0..<count {
            let start = reader.offset
            let key = try reader.slice(try reader.varint())
            _ = try reader.slice(try reader.varint())
            if replaceAll { continue }
            let name = String(decoding: key, as: UTF8.self)
            if set[name] != nil || remove.contains(name) { continue }
            kept.append(start..<reader.offset)
        }
        let trailer = blob[reader.offset...]
        // The trailer is copied as it is, but checked as ``decode(_:)`` checks it.
        let trailerCount = reader.isAtEnd ? 0 : try reader.varint()
        for _ in 0..<trailerCount {
            let length = try reader.varint()
            if length > 0 { _ = try reader.slice(length - 1) }
        }

        let newValues = set.map { (key: $0.key.utf8, json: $0.value.jsonBytes) }
        let newCount = kept.count + newValues.count
        var size = 1 + varintSize(newCount) + trailer.count
        for range in kept { size += range.count }
        for (key, json) in newValues { size += varintSize(key.count) + key.count + varintSize(json.count) + json.count }
        var out = [UInt8]()
        out.reserveCapacity(size)
        out.append(version)
        appendVarint(newCount, to: &out)
        for range in kept { out.append(contentsOf: blob[range]) }
        for (key, json) in newValues {
            appendVarint(key.count, to: &out)
            out.append(contentsOf: key)
            appendVarint(json.count, to: &out)
            out.append(contentsOf: json)
        }
        out.append(contentsOf: trailer)
        return out
    }

    /// The blob with `operations` applied in order to its values; the trailer is kept.
    package static func applying(_ operations: [SessionOperation], toBlob blob: [UInt8]) throws -> [UInt8] {
        guard !operations.isEmpty else { return blob }
        var (values, trailer) = try decode(blob)
        for operation in operations {
            values[operation.key] = SessionValue(json: operation.applied(to: values[operation.key]).jsonBytes)
        }
        return encode(values, trailer: trailer)
    }

    /// Whether applying `delta` can change the value of ``StoredSession/userIDKey``.
    package static func touchesUserID(_ delta: SessionDelta) -> Bool {
        switch delta {
        case .replaceAll: return true
        case .update(let set, let remove):
            return set[StoredSession.userIDKey] != nil || remove.contains(StoredSession.userIDKey)
        case .updateApplying(let set, let remove, let operations):
            return set[StoredSession.userIDKey] != nil || remove.contains(StoredSession.userIDKey)
                || operations.contains { $0.key == StoredSession.userIDKey }
        }
    }

    private static var corrupt: SessionStoreError {
        SessionStoreError(.corruptRecord, "a stored session record could not be decoded")
    }

    private static func varintSize(_ value: Int) -> Int {
        var value = UInt(value)
        var size = 1
        while value >= 0x80 {
            value >>= 7
            size += 1
        }
        return size
    }

    private static func appendVarint(_ value: Int, to out: inout [UInt8]) {
        var value = UInt(value)
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var isAtEnd: Bool { offset >= bytes.count }

        mutating func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw corrupt }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func varint() throws -> Int {
            var result: UInt = 0
            var shift: UInt = 0
            while true {
                let byte = try self.byte()
                guard shift < 35 else { throw corrupt }
                result |= UInt(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return Int(result) }
                shift += 7
            }
        }

        mutating func slice(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, count <= bytes.count - offset else { throw corrupt }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }
    }
}
