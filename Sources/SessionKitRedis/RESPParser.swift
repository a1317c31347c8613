import NIOCore

/// Decodes RESP2 replies from bytes as they arrive, resuming where it stopped: a reply split over
/// many reads costs work in proportion to its bytes, not to its bytes times the reads.
///
/// Feed it one growing buffer, as ``RedisResponseHandler`` keeps one: ``parse(_:)`` consumes every
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
    ///
    /// The bytes are read in place, in one pass, and the reader index moves once at the end: each
    /// `ByteBuffer` accessor checks exclusive access to the buffer's storage at run time, and a
    /// `HGETALL` reply read through them cost some eighty such checks (measured with callgrind).
    package mutating func parse(_ buffer: inout ByteBuffer) throws(Error) -> RESPValue? {
        let source = buffer
        var position = 0
        let outcome = source.withUnsafeReadableBytes { bytes -> Result<RESPValue?, Error> in
            do throws(Error) {
                return .success(try parse(bytes, source: source, position: &position))
            } catch {
                return .failure(error)
            }
        }
        buffer.moveReaderIndex(forwardBy: position)
        return try outcome.get()
    }

    /// ``parse(_:)`` over `bytes`, the readable bytes of `source`, from `position` (moved past what
    /// is consumed).
    private mutating func parse(_ bytes: UnsafeRawBufferPointer, source: ByteBuffer, position: inout Int) throws(Error) -> RESPValue? {
        while true {
            switch try step(bytes, source: source, position: &position) {
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

    /// The next element at `position`: a value, the start of an array, or a wait for more bytes.
    private mutating func step(_ bytes: UnsafeRawBufferPointer, source: ByteBuffer, position: inout Int) throws(Error) -> Step {
        if let length = pendingBulkLength {
            return try bulkPayload(length, bytes, source: source, position: &position)
        }
        guard position < bytes.count else { return .needMore }
        let type = bytes[position]
        if lineScanned == 0 { bytesExamined += 1 }
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"):
            break
        default:
            throw Error(reason: "unknown type byte \(type)", unknownTypeByte: type)
        }
        guard let length = try lineLength(bytes, lineStart: position) else { return .needMore }
        // The line's content runs from after the type byte up to its CR; the line is consumed with
        // its CRLF once the content is read.
        let content = position + 1
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[content..<content + length]), as: UTF8.self)
            position += length + 3
            return .value(type == UInt8(ascii: "+") ? .simpleString(text) : .error(text))
        case UInt8(ascii: ":"):
            let value = try Self.integer(bytes, at: content, length: length)
            position += length + 3
            return .value(.integer(value))
        case UInt8(ascii: "$"):
            let bulkLength = try Self.integer(bytes, at: content, length: length)
            position += length + 3
            if bulkLength == -1 { return .value(.bulkString(nil)) }
            guard bulkLength >= 0, bulkLength <= maximumBulkLength else { throw Error(reason: "bulk string length \(bulkLength)") }
            pendingBulkLength = Int(bulkLength)
            return try bulkPayload(Int(bulkLength), bytes, source: source, position: &position)
        default:
            let count = try Self.integer(bytes, at: content, length: length)
            position += length + 3
            if count == -1 { return .value(.array(nil)) }
            guard count >= 0, count <= maximumArrayCount else { throw Error(reason: "array count \(count)") }
            if count == 0 { return .value(.array([])) }
            if frames.count + 1 > maximumDepth { throw Error(reason: "arrays nested deeper than \(maximumDepth)") }
            // Reserve no more than the bytes at hand could back (an element takes at least three,
            // "+\r\n"): a large count alone allocates nothing big.
            var elements: [RESPValue] = []
            elements.reserveCapacity(min(Int(count), max(16, (bytes.count - position) / 3)))
            frames.append(Frame(elements: elements, remaining: Int(count)))
            return .arrayStarted
        }
    }

    /// A bulk string's payload and its CRLF at `position`, or ``Step/needMore`` until all of it is
    /// buffered. The payload becomes a slice of `source` (no copy).
    private mutating func bulkPayload(_ length: Int, _ bytes: UnsafeRawBufferPointer, source: ByteBuffer, position: inout Int) throws(Error) -> Step {
        guard bytes.count - position >= length + 2 else { return .needMore }
        bytesExamined += length + 2
        guard bytes[position + length] == UInt8(ascii: "\r"), bytes[position + length + 1] == UInt8(ascii: "\n") else {
            throw Error(reason: "bulk string not followed by CRLF")
        }
        let payload = source.getSlice(at: source.readerIndex + position, length: length)!
        position += length + 2
        pendingBulkLength = nil
        return .value(.bulkString(payload))
    }

    /// The length of the line whose type byte is at `lineStart` (up to its CR) once its CRLF has
    /// arrived, or `nil` until then; consumes nothing. The scan for the CR resumes where the last
    /// one stopped.
    private mutating func lineLength(_ bytes: UnsafeRawBufferPointer, lineStart: Int) throws(Error) -> Int? {
        let contentStart = lineStart + 1
        let scanStart = contentStart + lineScanned
        // A line's content is at most maximumLineLength bytes; its CR can be one further.
        let limit = min(bytes.count, contentStart + maximumLineLength + 1)
        var index = scanStart
        var carriageReturn: Int?
        while index < limit {
            if bytes[index] == UInt8(ascii: "\r") {
                carriageReturn = index
                break
            }
            index += 1
        }
        guard let end = carriageReturn else {
            let scanned = max(0, limit - scanStart)
            bytesExamined += scanned
            lineScanned += scanned
            if bytes.count - lineStart - 1 > maximumLineLength { throw Error(reason: "line longer than \(maximumLineLength) bytes") }
            return nil
        }
        bytesExamined += end - scanStart + 1
        guard end + 1 < bytes.count else {
            // The CR is here, its LF not yet: look at the CR again next time.
            lineScanned = end - contentStart
            return nil
        }
        bytesExamined += 1
        guard bytes[end + 1] == UInt8(ascii: "\n") else {
            throw Error(reason: "CR not followed by LF")
        }
        lineScanned = 0
        return end - contentStart
    }

    /// The decimal integer (an optional minus sign, at most 19 digits, checked for overflow) in the
    /// `length` bytes at `index` of `bytes`.
    private static func integer(_ bytes: UnsafeRawBufferPointer, at index: Int, length: Int) throws(Error) -> Int64 {
        var position = index
        let end = index + length
        var negative = false
        if position < end, bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        guard position < end, end - position <= 19 else { throw Error(reason: "bad integer") }
        var value: Int64 = 0
        while position < end {
            let byte = bytes[position]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw Error(reason: "bad integer") }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw Error(reason: "integer overflow") }
            value = sum
            position += 1
        }
        return negative ? -value : value
    }
}
