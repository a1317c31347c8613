import NIOCore

/// One Redis command encoded as RESP2: an array of bulk strings, so any bytes (CR, LF, NUL,
/// invalid UTF-8) travel unchanged.
///
/// ```swift
/// var command = RedisCommand("HSET", "key")
/// command.append("field")
/// command.append(bytes: [0, 13, 10, 255])
/// command.append(42)
/// let reply = try await pool.send(command)
/// ```
package struct RedisCommand: Sendable {
    /// The arguments, each already framed as a bulk string.
    private var body: ByteBuffer
    /// How many arguments (the command name included) there are.
    package private(set) var count: Int

    package init(_ arguments: String...) {
        body = ByteBuffer()
        body.reserveCapacity(64)
        count = 0
        for argument in arguments { append(argument) }
    }

    package mutating func append(_ string: String) {
        var string = string
        string.withUTF8 { append(bytes: $0) }
    }

    package mutating func append(_ integer: Int64) {
        append(String(integer))
    }

    package mutating func append(_ integer: Int) {
        append(String(integer))
    }

    package mutating func append(bytes: some Collection<UInt8>) {
        count += 1
        body.writeInteger(UInt8(ascii: "$"))
        body.writeString(String(bytes.count))
        body.writeStaticString("\r\n")
        body.writeBytes(bytes)
        body.writeStaticString("\r\n")
    }

    /// `prefix` then `bytes` as one argument (for example a hash field `v:` + a session key).
    package mutating func append(prefix: StaticString, _ bytes: some Collection<UInt8>) {
        count += 1
        body.writeInteger(UInt8(ascii: "$"))
        body.writeString(String(prefix.utf8CodeUnitCount + bytes.count))
        body.writeStaticString("\r\n")
        body.writeStaticString(prefix)
        body.writeBytes(bytes)
        body.writeStaticString("\r\n")
    }

    /// Appends every argument of `other` (for example script arguments after `EVALSHA sha 0`).
    package mutating func append(contentsOf other: RedisCommand) {
        var otherBody = other.body
        body.writeBuffer(&otherBody)
        count += other.count
    }

    /// The command as bytes on the wire: `*count`, then every bulk string.
    package func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: body.readableBytes + 16)
        buffer.writeInteger(UInt8(ascii: "*"))
        buffer.writeString(String(count))
        buffer.writeStaticString("\r\n")
        var body = body
        buffer.writeBuffer(&body)
        return buffer
    }
}
