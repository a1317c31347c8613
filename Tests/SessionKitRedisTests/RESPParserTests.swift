import NIOCore
import SessionKitRedis
import Testing

@Suite("RESP2 parser and command encoder")
struct RESPParserTests {
    static func parseAll(_ text: String) throws -> [RESPValue] {
        var buffer = ByteBuffer(string: text)
        var values: [RESPValue] = []
        var parser = RESPParser()
        while let value = try parser.parse(&buffer) { values.append(value) }
        #expect(buffer.readableBytes == 0 && !parser.isMidReply)
        return values
    }

    static func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }

    @Test func decodesEveryType() throws {
        let values = try Self.parseAll("+OK\r\n-ERR wrong type\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n*3\r\n:1\r\n*1\r\n$1\r\nx\r\n$-1\r\n")
        #expect(values == [
            .simpleString("OK"), .error("ERR wrong type"), .integer(42), .integer(-7), Self.bulk("hello"), Self.bulk(""),
            .bulkString(nil), .array(nil), .array([]), .array([.integer(1), .array([Self.bulk("x")]), .bulkString(nil)]),
        ])
        #expect(values[6].isNull && values[7].isNull && !values[5].isNull)
        #expect(values[4].string == "hello" && values[2].int64 == 42 && values[9].array?.count == 3)
    }

    @Test func bulkStringsAreBinarySafe() throws {
        var buffer = ByteBuffer(string: "$6\r\n")
        buffer.writeBytes([0, 13, 10, 255, 36, 42])
        buffer.writeString("\r\n")
        var parser = RESPParser()
        let value = try parser.parse(&buffer)
        #expect(value?.bytes.map { Array($0.readableBytesView) } == [0, 13, 10, 255, 36, 42])
    }

    @Test func encodesCommandsAsArraysOfBulkStrings() {
        var command = RedisCommand("HSET", "k")
        command.append(bytes: [0, 13, 10, 255])
        command.append(Int64(-12))
        command.append(prefix: "v:", "é".utf8)
        command.append("")
        #expect(command.count == 6)
        #expect(String(buffer: command.encoded()) == "*6\r\n$4\r\nHSET\r\n$1\r\nk\r\n$4\r\n\0\r\n\u{FFFD}\r\n$3\r\n-12\r\n$4\r\nv:é\r\n$0\r\n\r\n")
        #expect(Array(command.encoded().readableBytesView)[25...28] == [0, 13, 10, 255])
        // Bytes without contiguous storage take the other path and encode the same.
        var lazy = RedisCommand("HSET", "k")
        lazy.append(bytes: [UInt8]([0, 13, 10, 255]).lazy.map { $0 })
        lazy.append(Int64(-12))
        lazy.append(prefix: "v:", "é".utf8.lazy.map { $0 })
        lazy.append(bytes: EmptyCollection<UInt8>())
        #expect(lazy.encoded() == command.encoded())
        var script = RedisCommand("EVALSHA", "abc", "0")
        script.append(contentsOf: command)
        #expect(script.count == 9)
        #expect(String(buffer: script.encoded()).hasPrefix("*9\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n0\r\n$4\r\nHSET\r\n"))
        // What the encoder writes, the parser reads back (the server's arrays look the same).
        var encoded = command.encoded()
        var parser = RESPParser()
        let decoded = try? parser.parse(&encoded)
        #expect(decoded?.array?.count == 6)
        #expect(decoded?.array?[2].bytes.map { Array($0.readableBytesView) } == [0, 13, 10, 255])
        // Integers are written digit by digit, without a String: the edges.
        var numbers = RedisCommand("X")
        for value in [Int64.min, -1, 0, 7, 10, Int64.max] { numbers.append(value) }
        numbers.append(Int(1234567890))
        #expect(String(buffer: numbers.encoded()) == "*8\r\n$1\r\nX\r\n$20\r\n-9223372036854775808\r\n$2\r\n-1\r\n$1\r\n0\r\n$1\r\n7\r\n$2\r\n10\r\n$19\r\n9223372036854775807\r\n$10\r\n1234567890\r\n")
    }

    @Test func splitReadsAtEveryByteDecodeTheSame() throws {
        let text = "*4\r\n+OK\r\n$12\r\nhello\r\nworld\r\n*2\r\n:-9223372036854775807\r\n$-1\r\n-NOSCRIPT missing\r\n:5\r\n"
        let expected = try Self.parseAll(text)
        #expect(expected.count == 2)
        let bytes = Array(text.utf8)
        // As RedisResponseHandler does: bytes accumulate, the parser is called after every read.
        for chunk in 1...7 {
            var buffer = ByteBuffer()
            var values: [RESPValue] = []
            var offset = 0
            var parser = RESPParser()
            while offset < bytes.count {
                buffer.writeBytes(bytes[offset..<min(offset + chunk, bytes.count)])
                offset += chunk
                while let value = try parser.parse(&buffer) { values.append(value) }
            }
            #expect(values == expected, "chunk size \(chunk)")
            #expect(buffer.readableBytes == 0)
        }
        // Every prefix is incomplete or the first reply, never an error; the same parser then
        // finishes the replies from the rest of the bytes, wherever the split was.
        for end in 0..<bytes.count {
            var parser = RESPParser()
            var buffer = ByteBuffer(bytes: bytes[..<end])
            var values: [RESPValue] = []
            while let value = try parser.parse(&buffer) { values.append(value) }
            #expect(values == Array(expected.prefix(values.count)), "prefix \(end)")
            buffer.writeBytes(bytes[end...])
            while let value = try parser.parse(&buffer) { values.append(value) }
            #expect(values == expected, "split at \(end)")
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test(arguments: [
        "?what\r\n", ":12a\r\n", ":\r\n", ":99999999999999999999\r\n", ":-\r\n", "$-2\r\n", "$abc\r\n", "*-5\r\n",
        "$3\r\nabcXY", "+OK\rX", "$99999999999\r\n", "*99999999999\r\n", ":-9223372036854775809\r\n",
    ])
    func rejectsMalformedInput(_ text: String) {
        var buffer = ByteBuffer(string: text)
        var parser = RESPParser()
        #expect(throws: RESPParser.Error.self) { _ = try parser.parse(&buffer) }
    }

    @Test func boundsNestingLinesAndCounts() throws {
        func parse(_ text: String, _ parser: RESPParser = RESPParser()) throws -> RESPValue? {
            var parser = parser
            var buffer = ByteBuffer(string: text)
            return try parser.parse(&buffer)
        }
        #expect(throws: RESPParser.Error.self) { _ = try parse(String(repeating: "*1\r\n", count: 40) + ":1\r\n") }
        #expect(try parse(String(repeating: "*1\r\n", count: 10) + ":1\r\n") != nil)
        #expect(try parse(String(repeating: "*1\r\n", count: 32) + ":1\r\n") != nil)
        #expect(throws: RESPParser.Error.self) { _ = try parse(String(repeating: "*1\r\n", count: 33) + ":1\r\n") }
        #expect(throws: RESPParser.Error.self) { _ = try parse("+" + String(repeating: "x", count: 70_000)) }
        #expect(try parse("+" + String(repeating: "x", count: 65_536) + "\r\n") != nil)
        #expect(throws: RESPParser.Error.self) { _ = try parse("+" + String(repeating: "x", count: 65_537) + "\r\n") }
        // A count the bytes cannot back yet waits (no huge allocation) until the limit rejects it.
        #expect(try parse("*16000000\r\n:1\r\n") == nil)
        #expect(throws: RESPParser.Error.self) { _ = try parse("$100\r\n", RESPParser(maximumBulkLength: 10)) }
    }

    @Test func hostileInputNeverTraps() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("+-:$*\r\n0123456789-abc".utf8) + [0, 255]
        let valid = Array("*3\r\n$3\r\nfoo\r\n:12\r\n*2\r\n+OK\r\n$-1\r\n".utf8)
        var outcomes = (values: 0, incomplete: 0, errors: 0)
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                // Random bytes from an alphabet that hits the parser's branches.
                bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            } else {
                // A valid reply with a few bytes changed, dropped or repeated.
                bytes = valid
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    let index = Int.random(in: 0..<bytes.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: bytes[index] = alphabet.randomElement(using: &generator)!
                    case 1: bytes.remove(at: index)
                    default: bytes.insert(bytes[index], at: index)
                    }
                    if bytes.isEmpty { bytes = [42] }
                }
            }
            var buffer = ByteBuffer(bytes: bytes)
            var parser = RESPParser(maximumDepth: 4, maximumLineLength: 16)
            do {
                while buffer.readableBytes > 0, let _ = try parser.parse(&buffer) {
                    outcomes.values += 1
                }
                outcomes.incomplete += 1
            } catch {
                outcomes.errors += 1
            }
        }
        #expect(outcomes.values > 0 && outcomes.errors > 0 && outcomes.incomplete > 0)
    }
}
