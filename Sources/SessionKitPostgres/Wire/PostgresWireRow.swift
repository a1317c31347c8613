import NIOCore

/// A `DataRow` from one of the store's statements, its columns in binary format, read in order.
/// A column of an unexpected length, or fewer columns than read, throws (a corrupt row, never a crash).
///
/// ```swift
/// var row = try PostgresWireRow(message.body)
/// let data = try row.bytes()          // bytea
/// let createdAt = try row.int64()     // int8
/// let agent = try row.text()          // text, nil for NULL
/// ```
struct PostgresWireRow: Sendable {
    struct Malformed: Error {}

    private var body: ByteBuffer
    private var remaining: Int

    init(_ body: ByteBuffer) throws {
        var body = body
        guard let count = body.readInteger(as: Int16.self), count >= 0 else { throw Malformed() }
        self.body = body
        self.remaining = Int(count)
    }

    /// The next column's bytes, `nil` for NULL.
    mutating func column() throws -> ByteBuffer? {
        guard remaining > 0, let length = body.readInteger(as: Int32.self) else { throw Malformed() }
        remaining -= 1
        if length == -1 { return nil }
        guard length >= 0, let slice = body.readSlice(length: Int(length)) else { throw Malformed() }
        return slice
    }

    /// A non-NULL `bytea`.
    mutating func bytes() throws -> ByteBuffer {
        guard let column = try column() else { throw Malformed() }
        return column
    }

    /// A non-NULL `int8`.
    mutating func int64() throws -> Int64 {
        guard let value = try optionalInt64() else { throw Malformed() }
        return value
    }

    /// An `int8`, `nil` for NULL.
    mutating func optionalInt64() throws -> Int64? {
        guard var column = try column() else { return nil }
        guard column.readableBytes == 8, let value = column.readInteger(as: Int64.self) else { throw Malformed() }
        return value
    }

    /// A `text`, `nil` for NULL; bytes that are not UTF-8 throw.
    mutating func text() throws -> String? {
        guard let column = try column() else { return nil }
        guard let text = String(validating: column.readableBytesView, as: UTF8.self) else { throw Malformed() }
        return text
    }
}
