import NIOCore

/// Decodes RESP2 replies from bytes as they arrive: ``parse(_:)`` returns `nil` (consuming nothing)
/// until a whole reply is buffered, so a reply split over any number of reads decodes the same.
///
/// Hostile or corrupt input never traps: lengths, counts, nesting and line lengths are bounded,
/// integers are parsed with overflow checks, and anything malformed throws ``RESPParser/Error``
/// (after which the connection is closed: there is no way to resynchronise).
///
/// ```swift
/// var buffer = ByteBuffer(string: "*2\r\n$1\r\na\r\n:7\r\n")
/// let reply = try RESPParser().parse(&buffer)   // .array([.bulkString("a"), .integer(7)])
/// ```
package struct RESPParser: Sendable {
    /// Why bytes are not a RESP2 reply.
    package struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        package let reason: String
        package var description: String { "invalid RESP reply: \(reason)" }
    }

    /// The longest bulk string accepted (Redis's own `proto-max-bulk-len` default is 512 MB).
    package var maximumBulkLength: Int
    /// The most elements one array may announce.
    package var maximumArrayCount: Int
    /// How deeply arrays may nest.
    package var maximumDepth: Int
    /// The longest simple string, error or integer line.
    package var maximumLineLength: Int

    package init(
        maximumBulkLength: Int = 512 * 1024 * 1024, maximumArrayCount: Int = 1 << 24,
        maximumDepth: Int = 32, maximumLineLength: Int = 64 * 1024
    ) {
        self.maximumBulkLength = maximumBulkLength
        self.maximumArrayCount = maximumArrayCount
        self.maximumDepth = maximumDepth
        self.maximumLineLength = maximumLineLength
    }

    /// Reads one complete reply from the front of `buffer`; returns `nil`, leaving `buffer` as it
    /// was, when more bytes are needed. Throws for bytes that can never become a valid reply.
    package func parse(_ buffer: inout ByteBuffer) throws(Error) -> RESPValue? {
        var copy = buffer
        guard let value = try parseValue(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private func parseValue(_ buffer: inout ByteBuffer, depth: Int) throws(Error) -> RESPValue? {
        guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            guard let line = try readLine(&buffer) else { return nil }
            return .simpleString(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: "-"):
            guard let line = try readLine(&buffer) else { return nil }
            return .error(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: ":"):
            guard let line = try readLine(&buffer) else { return nil }
            return .integer(try Self.integer(line))
        case UInt8(ascii: "$"):
            guard let line = try readLine(&buffer) else { return nil }
            let length = try Self.integer(line)
            if length == -1 { return .bulkString(nil) }
            guard length >= 0, length <= maximumBulkLength else { throw Error(reason: "bulk string length \(length)") }
            let count = Int(length)
            guard buffer.readableBytes >= count + 2 else { return nil }
            let bytes = buffer.readSlice(length: count)!
            guard buffer.readInteger(as: UInt8.self) == UInt8(ascii: "\r"), buffer.readInteger(as: UInt8.self) == UInt8(ascii: "\n") else {
                throw Error(reason: "bulk string not followed by CRLF")
            }
            return .bulkString(bytes)
        case UInt8(ascii: "*"):
            guard let line = try readLine(&buffer) else { return nil }
            let count = try Self.integer(line)
            if count == -1 { return .array(nil) }
            guard count >= 0, count <= maximumArrayCount else { throw Error(reason: "array count \(count)") }
            if count > 0 && depth + 1 > maximumDepth { throw Error(reason: "arrays nested deeper than \(maximumDepth)") }
            // Every element takes at least three bytes ("+\r\n"): no need to try before they are here,
            // and no huge allocation for a count the bytes cannot back.
            guard Int(count) <= buffer.readableBytes / 3 else { return nil }
            var elements: [RESPValue] = []
            elements.reserveCapacity(Int(count))
            for _ in 0..<Int(count) {
                guard let element = try parseValue(&buffer, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            return .array(elements)
        default:
            throw Error(reason: "unknown type byte \(type)")
        }
    }

    /// The bytes up to the next CRLF (consumed), or `nil` when it has not arrived yet.
    private func readLine(_ buffer: inout ByteBuffer) throws(Error) -> ByteBufferView? {
        let view = buffer.readableBytesView
        let limit = min(view.count, maximumLineLength + 2)
        guard let end = view.prefix(limit).firstIndex(of: UInt8(ascii: "\r")) else {
            if view.count > maximumLineLength + 1 { throw Error(reason: "line longer than \(maximumLineLength) bytes") }
            return nil
        }
        guard end + 1 < view.endIndex else { return nil }
        guard view[end + 1] == UInt8(ascii: "\n") else { throw Error(reason: "CR not followed by LF") }
        let line = view[view.startIndex..<end]
        buffer.moveReaderIndex(forwardBy: end - view.startIndex + 2)
        return line
    }

    /// A decimal integer with an optional minus sign, checked for overflow.
    private static func integer(_ bytes: ByteBufferView) throws(Error) -> Int64 {
        var negative = false
        var digits = bytes[...]
        if digits.first == UInt8(ascii: "-") {
            negative = true
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= 19 else { throw Error(reason: "bad integer") }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw Error(reason: "bad integer") }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw Error(reason: "integer overflow") }
            value = sum
        }
        return negative ? -value : value
    }
}
