import NIOCore

/// ``RESPParser`` as a channel handler's decoder: one ``RESPValue`` per complete reply. The parser
/// keeps its place between reads, so a large reply arriving in many reads is parsed once.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder(parser: RESPParser())))
/// ```
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue
    var parser: RESPParser

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try parser.parse(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(value))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
