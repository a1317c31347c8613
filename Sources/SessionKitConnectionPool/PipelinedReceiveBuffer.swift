import NIOCore

/// The bytes a pipelined connection's handler has received and not parsed yet: the start of a
/// reply (or message) still arriving. Each read is appended to them; what the parser consumes is
/// dropped once it is the larger part, so a long reply in many reads is copied a bounded number of
/// times. SessionKit's Redis and PostgreSQL handlers parse their own bytes with it.
///
/// ```swift
/// var buffer = received.joined(with: unwrapInboundIn(data))
/// while let reply = try parser.parse(&buffer) { answer(reply) }
/// received.keep(buffer)
/// ```
package struct PipelinedReceiveBuffer {
    private var kept: ByteBuffer?

    package init() {}

    /// `incoming` after the bytes kept from earlier reads.
    package mutating func joined(with incoming: ByteBuffer) -> ByteBuffer {
        guard var earlier = kept else { return incoming }
        kept = nil // uniquely referenced again: appending does not copy it
        var incoming = incoming
        earlier.writeBuffer(&incoming)
        return earlier
    }

    /// Keeps what is left of `buffer` after the parser's reads (nothing when it took every byte).
    package mutating func keep(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else {
            kept = nil
            return
        }
        var buffer = buffer
        if buffer.readerIndex > 4096, buffer.readerIndex > buffer.readableBytes { buffer.discardReadBytes() }
        kept = buffer
    }
}
