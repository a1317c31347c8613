import NIOCore
import NIOEmbedded
import Testing
@testable import SessionKitRedis

/// The parser resumes where it stopped: a reply arriving in many reads costs work in proportion to
/// its bytes. ``RESPParser/bytesExamined`` counts every byte looked at, again each time it is
/// looked at again, so it shows linear work directly; restarting from the reply's start after
/// every read (what the parser did before) is measured beside it for contrast.
@Suite("RESP2 parser resumes")
struct RESPParserResumeTests {
    /// `*count` then `count` bulk strings `value-<n>`, and the value it decodes to.
    static func bulkArray(_ count: Int) -> (bytes: [UInt8], value: RESPValue) {
        var text = "*\(count)\r\n"
        var elements: [RESPValue] = []
        elements.reserveCapacity(count)
        for index in 0..<count {
            let element = "value-\(index)"
            text += "$\(element.utf8.count)\r\n\(element)\r\n"
            elements.append(.bulkString(ByteBuffer(string: element)))
        }
        return (Array(text.utf8), .array(elements))
    }

    /// Feeds `bytes` in reads of `chunk` bytes to one parser, calling it after every read as
    /// ``RedisResponseHandler`` does; returns the replies and the parser's work.
    static func feed(_ bytes: [UInt8], chunk: Int) throws -> (values: [RESPValue], examined: Int, reads: Int) {
        var parser = RESPParser()
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        var offset = 0
        var reads = 0
        while offset < bytes.count {
            buffer.writeBytes(bytes[offset..<min(offset + chunk, bytes.count)])
            offset += chunk
            reads += 1
            while let value = try parser.parse(&buffer) { values.append(value) }
        }
        #expect(buffer.readableBytes == 0 && !parser.isMidReply)
        return (values, parser.bytesExamined, reads)
    }

    /// The work of a parser that starts over from the reply's first byte after every read: a
    /// fresh parser on all the bytes buffered so far, each time.
    static func restartingWork(_ bytes: [UInt8], chunk: Int) throws -> Int {
        var total = 0
        var end = 0
        while end < bytes.count {
            end = min(end + chunk, bytes.count)
            var parser = RESPParser()
            var buffer = ByteBuffer(bytes: bytes[..<end])
            _ = try parser.parse(&buffer)
            total += parser.bytesExamined
        }
        return total
    }

    @Test func tenThousandBulkStringsByteByByteIsLinear() throws {
        let (bytes, expected) = Self.bulkArray(10_000)
        #expect(bytes.count == 167_898)
        for chunk in [1, 3, 7, 4096] {
            let (values, examined, reads) = try Self.feed(bytes, chunk: chunk)
            #expect(values == [expected], "chunk \(chunk)")
            // Every byte at most twice (a type byte or a CR is looked at again when a read ends
            // right after it), whatever the number of reads: 167,898 reads for chunk 1. Measured:
            // 187,900 bytes examined for chunk 1, 174,865 for 3, 170,729 for 7, 167,902 for 4096.
            #expect(examined >= bytes.count && examined <= 2 * bytes.count, "chunk \(chunk): \(examined) for \(bytes.count) bytes in \(reads) reads")
        }
        // Read at once, each byte is looked at once.
        #expect(try Self.feed(bytes, chunk: bytes.count).examined == bytes.count)
    }

    @Test func restartingWouldBeQuadraticResumingIsNot() throws {
        // Work per byte of reply, at two sizes: constant when resuming, growing with the size when
        // starting over (by about the size's factor, 4). Measured: 1.14 and 1.14 resuming; 695 and
        // 2,945 starting over (for 10,000 elements that would be some 84,000 per byte).
        var resumingPerByte: [Double] = []
        var restartingPerByte: [Double] = []
        for count in [100, 400] {
            let (bytes, _) = Self.bulkArray(count)
            resumingPerByte.append(Double(try Self.feed(bytes, chunk: 1).examined) / Double(bytes.count))
            restartingPerByte.append(Double(try Self.restartingWork(bytes, chunk: 1)) / Double(bytes.count))
        }
        #expect(resumingPerByte.allSatisfy { $0 <= 2 })
        #expect(abs(resumingPerByte[1] - resumingPerByte[0]) < 0.1)
        #expect(restartingPerByte[0] > 500)
        #expect(restartingPerByte[1] / restartingPerByte[0] > 3.5)
    }

    @Test func aLargeBulkStringIsSlicedOnce() throws {
        let payload = [UInt8](repeating: 0x61, count: 1 << 20)
        let bytes = Array("$\(payload.count)\r\n".utf8) + payload + Array("\r\n".utf8)
        let (values, examined, reads) = try Self.feed(bytes, chunk: 1000)
        #expect(values.count == 1 && values[0].bytes?.readableBytes == payload.count)
        #expect(reads == 1049)
        #expect(examined == bytes.count)
    }

    @Test func aLongLineFedByteByByteIsScannedOnce() throws {
        let line = "+" + String(repeating: "x", count: 60_000) + "\r\n"
        let (values, examined, _) = try Self.feed(Array(line.utf8), chunk: 1)
        #expect(values == [.simpleString(String(repeating: "x", count: 60_000))])
        #expect(examined <= line.utf8.count + 2)
    }

    @Test func nestedArraysSplitAnywhereDecodeTheSame() throws {
        let text = "*3\r\n*2\r\n$3\r\nabc\r\n*0\r\n*-1\r\n*2\r\n:1\r\n*1\r\n$-1\r\n+OK\r\n-ERR x\r\n"
        var whole = ByteBuffer(string: text)
        var reference = RESPParser()
        var expected: [RESPValue] = []
        while let value = try reference.parse(&whole) { expected.append(value) }
        #expect(expected.count == 3)
        let bytes = Array(text.utf8)
        for first in 0...bytes.count {
            for second in first...bytes.count where (second - first) % 5 == 0 || second == bytes.count {
                var parser = RESPParser()
                var buffer = ByteBuffer()
                var values: [RESPValue] = []
                for range in [0..<first, first..<second, second..<bytes.count] {
                    buffer.writeBytes(bytes[range])
                    while let value = try parser.parse(&buffer) { values.append(value) }
                }
                #expect(values == expected, "splits at \(first), \(second)")
            }
        }
    }

    @Test func throughTheResponseHandlerInSmallReads() throws {
        // The handler keeps an incomplete reply's bytes, appends each read to them and drops what
        // the parser consumed: the parser's place stays right, and each reply reaches its command.
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(RedisResponseHandler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        let connection = try RedisConnection(channel: channel, commandTimeout: .seconds(5))
        let first = connection.send(RedisCommand("LRANGE", "list", "0", "-1"))
        let second = connection.send(RedisCommand("PING"))
        let (bytes, expected) = Self.bulkArray(10_000)
        let all = bytes + Array("+PONG\r\n".utf8)
        var offset = 0
        while offset < all.count {
            try channel.writeInbound(ByteBuffer(bytes: all[offset..<min(offset + 3, all.count)]))
            offset += 3
        }
        #expect(try first.wait() == expected)
        #expect(try second.wait() == .simpleString("PONG"))
        _ = try channel.finish()
    }

    @Test func aReplyAndTheStartOfTheNextInOneRead() throws {
        // Bytes after a complete reply are the next reply's start: kept, then completed.
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(RedisResponseHandler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        let connection = try RedisConnection(channel: channel, commandTimeout: .seconds(5))
        let replies = (0..<3).map { _ in connection.send(RedisCommand("GET", "k")) }
        try channel.writeInbound(ByteBuffer(string: "$1\r\na\r\n$2\r\nb"))
        #expect(try replies[0].wait() == .bulkString(ByteBuffer(string: "a")))
        try channel.writeInbound(ByteBuffer(string: "c\r\n$-1\r\n"))
        #expect(try replies[1].wait() == .bulkString(ByteBuffer(string: "bc")))
        #expect(try replies[2].wait() == .bulkString(nil))
        // A reply nobody asked for fails the connection.
        _ = try? channel.writeInbound(ByteBuffer(string: "+OK\r\n"))
        #expect(!channel.isActive)
        // Closed by the handler: finish anyway, which runs the loop's pending tasks (the flush
        // holds the handler and its context); left queued, they and the channel would leak.
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
