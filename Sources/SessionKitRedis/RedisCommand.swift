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
        // Its decimal digits, written in place: no String on the way.
        Self.withDecimal(integer) { digits in append(bytes: digits) }
    }

    package mutating func append(_ integer: Int) {
        append(Int64(integer))
    }

    package mutating func append(bytes: some Collection<UInt8>) {
        let written: Void? = bytes.withContiguousStorageIfAvailable { bytes in
            writeArgument(prefix: nil, UnsafeRawBufferPointer(bytes))
        }
        guard written == nil else { return }
        count += 1
        writeHeader(length: bytes.count)
        body.writeBytes(bytes)
        body.writeStaticString("\r\n")
    }

    /// `prefix` then `bytes` as one argument (for example a hash field `v:` + a session key).
    package mutating func append(prefix: StaticString, _ bytes: some Collection<UInt8>) {
        let written: Void? = bytes.withContiguousStorageIfAvailable { bytes in
            writeArgument(prefix: prefix, UnsafeRawBufferPointer(bytes))
        }
        guard written == nil else { return }
        count += 1
        writeHeader(length: prefix.utf8CodeUnitCount + bytes.count)
        body.writeStaticString(prefix)
        body.writeBytes(bytes)
        body.writeStaticString("\r\n")
    }

    /// One argument, `$<length>\r\n<prefix><bytes>\r\n`, written with one capacity check: each
    /// `ByteBuffer` write makes its own (about 150 instructions), and an `apply` script's arguments
    /// were three writes each.
    private mutating func writeArgument(prefix: StaticString?, _ bytes: UnsafeRawBufferPointer) {
        count += 1
        let prefixLength = prefix?.utf8CodeUnitCount ?? 0
        let length = prefixLength + bytes.count
        Self.withDecimal(Int64(length), leading: UInt8(ascii: "$"), trailingCRLF: true) { header in
            let size = header.count + length + 2
            body.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
                var offset = 0
                UnsafeMutableRawBufferPointer(rebasing: out[offset..<offset + header.count]).copyMemory(from: header)
                offset += header.count
                if let prefix, prefixLength > 0 {
                    prefix.withUTF8Buffer { source in
                        UnsafeMutableRawBufferPointer(rebasing: out[offset..<offset + prefixLength]).copyMemory(from: UnsafeRawBufferPointer(source))
                    }
                    offset += prefixLength
                }
                if !bytes.isEmpty {
                    UnsafeMutableRawBufferPointer(rebasing: out[offset..<offset + bytes.count]).copyMemory(from: bytes)
                    offset += bytes.count
                }
                out[offset] = UInt8(ascii: "\r")
                out[offset + 1] = UInt8(ascii: "\n")
                return size
            }
        }
    }

    /// A bulk string's header, `$<length>\r\n`, in one write.
    private mutating func writeHeader(length: Int) {
        Self.withDecimal(Int64(length), leading: UInt8(ascii: "$"), trailingCRLF: true) { header in
            body.writeBytes(header)
        }
    }

    /// Calls `body` with the decimal digits of `value` (a minus sign first when negative), after
    /// `leading` and before a CRLF when asked, in a buffer on the stack.
    @discardableResult
    static func withDecimal<Result>(
        _ value: Int64, leading: UInt8? = nil, trailingCRLF: Bool = false,
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        // 1 leading byte, a sign, 19 digits, CRLF.
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { scratch in
            var end = scratch.count
            if trailingCRLF {
                scratch[end - 2] = UInt8(ascii: "\r")
                scratch[end - 1] = UInt8(ascii: "\n")
                end -= 2
            }
            var start = end
            var magnitude = value.magnitude
            repeat {
                start -= 1
                scratch[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                scratch[start] = UInt8(ascii: "-")
            }
            if let leading {
                start -= 1
                scratch[start] = leading
            }
            return try body(UnsafeRawBufferPointer(start: scratch.baseAddress! + start, count: scratch.count - start))
        }
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
        Self.withDecimal(Int64(count), leading: UInt8(ascii: "*"), trailingCRLF: true) { header in
            buffer.writeBytes(header)
        }
        var body = body
        buffer.writeBuffer(&body)
        return buffer
    }
}
