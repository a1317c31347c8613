import NIOCore

/// Decodes RESP2 replies from bytes as they arrive, resuming where it stopped: a reply split over
/// many reads costs work in proportion to its bytes, not to its bytes times the reads.
///
/// Feed it one growing buffer, as `ByteToMessageHandler` keeps one: ``parse(_:)`` consumes every
/// element it completes (arrays being built, and how far a line has been scanned, are kept in the
/// parser), returns `nil` when the reply is not complete yet, and the reply once it is. The bytes
/// after the buffer's reader index must be the ones it was given before, plus any that arrived
/// since. A reply split over any number of reads decodes the same.
///
/// Hostile or corrupt input never traps: lengths, counts, nesting and line lengths are bounded,
/// integers are parsed with overflow checks, and anything malformed throws ``RESPParser/Error``
/// (after which the parser's state is undefined and the connection is closed: there is no way to
/// resynchronise).
///
/// ```swift
/// var parser = RESPParser()
/// var buffer = ByteBuffer(string: "*2\r\n$1\r\na\r\n")
/// try parser.parse(&buffer)                    // nil: "*2", "$1 a" consumed, one element to come
/// buffer.writeString(":7\r\n")
/// let reply = try parser.parse(&buffer)        // .array([.bulkString("a"), .integer(7)])
/// ```
package struct RESPParser: Sendable {
    /// Why bytes are not a RESP2 reply.
    package struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        package let reason: String
        /// The byte where a reply's type should have been, when it named no RESP2 type.
        package var unknownTypeByte: UInt8?
        package var description: String { "invalid RESP reply: \(reason)" }

        init(reason: String, unknownTypeByte: UInt8? = nil) {
            self.reason = reason
            self.unknownTypeByte = unknownTypeByte
        }
    }

    /// The longest bulk string accepted (Redis's own `proto-max-bulk-len` default is 512 MB).
    package var maximumBulkLength: Int
    /// The most elements one array may announce.
    package var maximumArrayCount: Int
    /// How deeply arrays may nest.
    package var maximumDepth: Int
    /// The longest simple string, error or integer line.
    package var maximumLineLength: Int

    /// How many bytes the parser has looked at so far, counting a byte again each time it is looked
    /// at again (a bulk string's payload counts once, as it is sliced, not scanned). Work done is in
    /// proportion to it: tests use it to show that a reply fed in small reads costs linear work.
    package private(set) var bytesExamined = 0

    /// An array being built: the elements read so far, and how many are still to come.
    private struct Frame {
        var elements: [RESPValue]
        var remaining: Int
    }

    /// The arrays being built, outermost first.
    private var frames: [Frame] = []
    /// A bulk string's length once its header is consumed and while its payload is incomplete.
    private var pendingBulkLength: Int?
    /// How many bytes after the type byte of the next (unconsumed) line were scanned without
    /// finding its end; the scan resumes after them.
    private var lineScanned = 0

    package init(
        maximumBulkLength: Int = 512 * 1024 * 1024, maximumArrayCount: Int = 1 << 24,
        maximumDepth: Int = 32, maximumLineLength: Int = 64 * 1024
    ) {
        self.maximumBulkLength = maximumBulkLength
        self.maximumArrayCount = maximumArrayCount
        self.maximumDepth = maximumDepth
        self.maximumLineLength = maximumLineLength
    }

    /// Whether the parser holds part of a reply (elements, a bulk string's header, or a partly
    /// scanned line) and waits for more bytes.
    package var isMidReply: Bool { !frames.isEmpty || pendingBulkLength != nil || lineScanned > 0 }

    /// Reads from the front of `buffer` on from where the last call stopped: returns the reply once
    /// it is complete, or `nil` (having consumed the complete parts) when more bytes are needed.
    /// Throws for bytes that can never become a valid reply.
    package mutating func parse(_ buffer: inout ByteBuffer) throws(Error) -> RESPValue? {
        while true {
            switch try step(&buffer) {
            case .needMore:
                return nil
            case .arrayStarted:
                continue
            case .value(var value):
                // Add it to the array being built, closing every array it completes.
                while !frames.isEmpty {
                    let last = frames.count - 1
                    frames[last].elements.append(value)
                    frames[last].remaining -= 1
                    guard frames[last].remaining == 0 else { break }
                    value = .array(frames.removeLast().elements)
                }
                if frames.isEmpty { return value }
            }
        }
    }

    private enum Step {
        /// A complete value (a scalar, or an empty or null array).
        case value(RESPValue)
        /// An array header with elements to come: a frame was pushed.
        case arrayStarted
        /// The buffer holds no complete element at its front.
        case needMore
    }

    /// The next element: a value, the start of an array, or a wait for more bytes.
    private mutating func step(_ buffer: inout ByteBuffer) throws(Error) -> Step {
        if let length = pendingBulkLength {
            return try bulkPayload(length, &buffer)
        }
        guard let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return .needMore }
        if lineScanned == 0 { bytesExamined += 1 }
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"):
            break
        default:
            throw Error(reason: "unknown type byte \(type)", unknownTypeByte: type)
        }
        guard let line = try readLine(&buffer) else { return .needMore }
        switch type {
        case UInt8(ascii: "+"):
            return .value(.simpleString(String(decoding: line, as: UTF8.self)))
        case UInt8(ascii: "-"):
            return .value(.error(String(decoding: line, as: UTF8.self)))
        case UInt8(ascii: ":"):
            return .value(.integer(try Self.integer(line)))
        case UInt8(ascii: "$"):
            let length = try Self.integer(line)
            if length == -1 { return .value(.bulkString(nil)) }
            guard length >= 0, length <= maximumBulkLength else { throw Error(reason: "bulk string length \(length)") }
            pendingBulkLength = Int(length)
            return try bulkPayload(Int(length), &buffer)
        default:
            let count = try Self.integer(line)
            if count == -1 { return .value(.array(nil)) }
            guard count >= 0, count <= maximumArrayCount else { throw Error(reason: "array count \(count)") }
            if count == 0 { return .value(.array([])) }
            if frames.count + 1 > maximumDepth { throw Error(reason: "arrays nested deeper than \(maximumDepth)") }
            // Reserve no more than the bytes at hand could back (an element takes at least three,
            // "+\r\n"): a large count alone allocates nothing big.
            var elements: [RESPValue] = []
            elements.reserveCapacity(min(Int(count), max(16, buffer.readableBytes / 3)))
            frames.append(Frame(elements: elements, remaining: Int(count)))
            return .arrayStarted
        }
    }

    /// A bulk string's payload and its CRLF, or ``Step/needMore`` until all of it is buffered.
    private mutating func bulkPayload(_ length: Int, _ buffer: inout ByteBuffer) throws(Error) -> Step {
        guard buffer.readableBytes >= length + 2 else { return .needMore }
        bytesExamined += length + 2
        let bytes = buffer.readSlice(length: length)!
        guard buffer.readInteger(as: UInt8.self) == UInt8(ascii: "\r"), buffer.readInteger(as: UInt8.self) == UInt8(ascii: "\n") else {
            throw Error(reason: "bulk string not followed by CRLF")
        }
        pendingBulkLength = nil
        return .value(.bulkString(bytes))
    }

    /// The bytes after the type byte up to the next CRLF (all consumed), or `nil` when the line has
    /// not arrived yet; the scan for its end resumes where the last one stopped.
    private mutating func readLine(_ buffer: inout ByteBuffer) throws(Error) -> ByteBufferView? {
        let view = buffer.readableBytesView
        let contentStart = view.startIndex + 1
        // A line's content is at most maximumLineLength bytes; its CR can be one further.
        let limit = min(view.endIndex, contentStart + maximumLineLength + 1)
        let scanStart = contentStart + lineScanned
        var end: Int?
        if scanStart < limit {
            for index in scanStart..<limit where view[index] == UInt8(ascii: "\r") {
                end = index
                break
            }
        }
        guard let end else {
            let scanned = max(0, limit - scanStart)
            bytesExamined += scanned
            lineScanned += scanned
            if view.count - 1 > maximumLineLength { throw Error(reason: "line longer than \(maximumLineLength) bytes") }
            return nil
        }
        bytesExamined += end - scanStart + 1
        guard end + 1 < view.endIndex else {
            // The CR is here, its LF not yet: look at the CR again next time.
            lineScanned = end - contentStart
            return nil
        }
        bytesExamined += 1
        guard view[end + 1] == UInt8(ascii: "\n") else { throw Error(reason: "CR not followed by LF") }
        let line = view[contentStart..<end]
        buffer.moveReaderIndex(forwardBy: end - view.startIndex + 2)
        lineScanned = 0
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
