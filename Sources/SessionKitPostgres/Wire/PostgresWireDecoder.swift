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
/// stream (or not PostgreSQL at all) and fails the connection.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PostgresWireDecoder()))
/// ```
struct PostgresWireDecoder: ByteToMessageDecoder {
    typealias InboundOut = PostgresWireMessage

    /// The largest message accepted: a row holds one session (SessionKit's records stay far below
    /// this), and PostgreSQL's own limit on a field is 1 GB.
    static let maximumLength = 1 << 30

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= 5,
            let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let length = buffer.getInteger(at: buffer.readerIndex + 1, as: Int32.self)
        else { return .needMoreData }
        guard length >= 4, Int(length) <= Self.maximumLength else {
            throw PostgresWireError(.protocolError, "the server sent a message of impossible length \(length) (type byte \(type)): is it a PostgreSQL server?")
        }
        guard buffer.readableBytes >= 1 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 5)
        let body = buffer.readSlice(length: Int(length) - 4)!
        context.fireChannelRead(Self.wrapInboundOut(PostgresWireMessage(type: type, body: body)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
