import NIOCore

/// One message from the server: its type byte and its body (without the length).
///
/// ```swift
/// if message.type == UInt8(ascii: "D") { rows.append(PostgresWireRow(message.body)) }
/// ```
struct PostgresWireMessage: Sendable {
    let type: UInt8
    var body: ByteBuffer
}

/// Splits the server's bytes into ``PostgresWireMessage``s: a type byte, a big-endian Int32
/// length that counts itself, the body. A length under 4 or over ``maximumLength`` is a broken
/// stream (or not PostgreSQL at all) and fails the connection. ``PostgresWireHandler`` calls it on
/// the bytes it has received, message after message, so no message crosses the channel's pipeline
/// as a type-erased value.
///
/// ```swift
/// while let message = try PostgresWireDecoder.nextMessage(from: &buffer) { handle(message) }
/// ```
enum PostgresWireDecoder {
    /// The largest message accepted: a row holds one session (SessionKit's records stay far below
    /// this), and PostgreSQL's own limit on a field is 1 GB.
    static let maximumLength = 1 << 30

    /// The message at the front of `buffer`, consumed; `nil` (nothing consumed) until it is complete.
    static func nextMessage(from buffer: inout ByteBuffer) throws(PostgresWireError) -> PostgresWireMessage? {
        guard buffer.readableBytes >= 5,
            let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let length = buffer.getInteger(at: buffer.readerIndex + 1, as: Int32.self)
        else { return nil }
        guard length >= 4, Int(length) <= maximumLength else {
            throw PostgresWireError(.protocolError, "the server sent a message of impossible length \(length) (type byte \(type)): is it a PostgreSQL server?")
        }
        guard buffer.readableBytes >= 1 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        return PostgresWireMessage(type: type, body: buffer.readSlice(length: Int(length) - 4)!)
    }
}
