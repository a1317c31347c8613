import NIOCore

/// The values of a statement's parameters (`$1`, `$2`, ...), in PostgreSQL's binary formats, as
/// a `Bind` message carries them: for each, its length as a big-endian Int32 (-1 for NULL) and
/// its bytes.
///
/// ```swift
/// var bindings = PostgresWireBindings()
/// bindings.append(bytes: key)          // bytea
/// bindings.append(now)                 // int8
/// bindings.append(userID)              // text, NULL when nil
/// ```
struct PostgresWireBindings: Sendable {
    /// The type OIDs the request path uses.
    enum DataType: Int32, Sendable {
        case bool = 16
        case bytea = 17
        case int8 = 20
        case text = 25
    }

    private(set) var count = 0
    private(set) var values: ByteBuffer

    init(capacity: Int = 128) {
        values = ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// A `bytea`.
    mutating func append<Bytes: Collection<UInt8>>(bytes: Bytes) {
        writeLength(Int32(bytes.count))
        values.writeBytes(bytes)
        count += 1
    }

    /// An `int8`.
    mutating func append(_ value: Int64) {
        values.writePostgresWireFields(count: 12) { bytes in
            bytes.storeBytes(of: Int32(8).bigEndian, toByteOffset: 0, as: Int32.self)
            bytes.storeBytes(of: value.bigEndian, toByteOffset: 4, as: Int64.self)
        }
        count += 1
    }

    /// A `bool`.
    mutating func append(_ value: Bool) {
        values.writePostgresWireFields(count: 5) { bytes in
            bytes.storeBytes(of: Int32(1).bigEndian, toByteOffset: 0, as: Int32.self)
            bytes.storeBytes(of: UInt8(value ? 1 : 0), toByteOffset: 4, as: UInt8.self)
        }
        count += 1
    }

    /// A `text` (its binary format is its UTF-8), or NULL.
    mutating func append(_ value: String?) {
        guard let value else {
            appendNull()
            return
        }
        writeLength(Int32(value.utf8.count))
        values.writeString(value)
        count += 1
    }

    /// An `int8`, or NULL.
    mutating func append(_ value: Int64?) {
        if let value { append(value) } else { appendNull() }
    }

    mutating func appendNull() {
        writeLength(-1)
        count += 1
    }

    /// A value's length, big-endian (-1: NULL).
    private mutating func writeLength(_ length: Int32) {
        values.writePostgresWireFields(count: 4) { bytes in
            bytes.storeBytes(of: length.bigEndian, toByteOffset: 0, as: Int32.self)
        }
    }
}
