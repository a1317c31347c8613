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
        guard let length = try lineLength(buffer) else { return .needMore }
        // The line's content runs from after the type byte up to its CR; the line is consumed with
        // its CRLF once the content is read.
        let content = buffer.readerIndex + 1
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let text = buffer.getString(at: content, length: length) ?? ""
            buffer.moveReaderIndex(forwardBy: length + 3)
            return .value(type == UInt8(ascii: "+") ? .simpleString(text) : .error(text))
        case UInt8(ascii: ":"):
            let value = try Self.integer(buffer, at: content, length: length)
            buffer.moveReaderIndex(forwardBy: length + 3)
            return .value(.integer(value))
        case UInt8(ascii: "$"):
            let bulkLength = try Self.integer(buffer, at: content, length: length)
            buffer.moveReaderIndex(forwardBy: length + 3)
            if bulkLength == -1 { return .value(.bulkString(nil)) }
            guard bulkLength >= 0, bulkLength <= maximumBulkLength else { throw Error(reason: "bulk string length \(bulkLength)") }
            pendingBulkLength = Int(bulkLength)
            return try bulkPayload(Int(bulkLength), &buffer)
        default:
            let count = try Self.integer(buffer, at: content, length: length)
            buffer.moveReaderIndex(forwardBy: length + 3)
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
        guard buffer.getInteger(at: buffer.readerIndex + length, as: UInt16.self) == 0x0D0A else {   // "\r\n", big-endian
            throw Error(reason: "bulk string not followed by CRLF")
        }
        let bytes = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 2)
        pendingBulkLength = nil
        return .value(.bulkString(bytes))
    }

    /// The length of the line after the type byte (up to its CR) once its CRLF has arrived, or
    /// `nil` until then; consumes nothing. The scan for the CR resumes where the last one stopped,
    /// over the buffer's bytes in place (a `ByteBufferView` subscript per byte cost an exclusivity
    /// check each: about a tenth of a Redis read's instructions).
    private mutating func lineLength(_ buffer: ByteBuffer) throws(Error) -> Int? {
        let contentStart = 1
        let scanStart = contentStart + lineScanned
        let maximumLineLength = self.maximumLineLength
        let (carriageReturn, count) = buffer.withUnsafeReadableBytes { bytes -> (Int?, Int) in
            // A line's content is at most maximumLineLength bytes; its CR can be one further.
            let limit = min(bytes.count, contentStart + maximumLineLength + 1)
            var index = scanStart
            while index < limit {
                if bytes[index] == UInt8(ascii: "\r") { return (index, bytes.count) }
                index += 1
            }
            return (nil, bytes.count)
        }
        guard let end = carriageReturn else {
            let limit = min(count, contentStart + maximumLineLength + 1)
            let scanned = max(0, limit - scanStart)
            bytesExamined += scanned
            lineScanned += scanned
            if count - 1 > maximumLineLength { throw Error(reason: "line longer than \(maximumLineLength) bytes") }
            return nil
        }
        bytesExamined += end - scanStart + 1
        guard end + 1 < count else {
            // The CR is here, its LF not yet: look at the CR again next time.
            lineScanned = end - contentStart
            return nil
        }
        bytesExamined += 1
        guard buffer.getInteger(at: buffer.readerIndex + end + 1, as: UInt8.self) == UInt8(ascii: "\n") else {
            throw Error(reason: "CR not followed by LF")
        }
        lineScanned = 0
        return end - contentStart
    }

    /// The decimal integer (an optional minus sign, at most 19 digits, checked for overflow) in the
    /// `length` bytes at `index` of `buffer`.
    private static func integer(_ buffer: ByteBuffer, at index: Int, length: Int) throws(Error) -> Int64 {
        enum Parsed { case value(Int64), bad, overflow }
        let offset = index - buffer.readerIndex
        let parsed = buffer.withUnsafeReadableBytes { bytes -> Parsed in
            var position = offset
            let end = offset + length
            var negative = false
            if position < end, bytes[position] == UInt8(ascii: "-") {
                negative = true
                position += 1
            }
            guard position < end, end - position <= 19 else { return .bad }
            var value: Int64 = 0
            while position < end {
                let byte = bytes[position]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return .bad }
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return .overflow }
                value = sum
                position += 1
            }
            return .value(negative ? -value : value)
        }
        switch parsed {
        case .value(let value): return value
        case .bad: throw Error(reason: "bad integer")
        case .overflow: throw Error(reason: "integer overflow")
        }
    }
}
