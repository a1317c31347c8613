import NIOCore
import NIOEmbedded
import Testing
@testable import SessionKitRedis

/// Commands sent in the same turn of the event loop leave in one flush (one `writev`), not one
/// system call each, and a single command is still flushed without waiting for another.
@Suite("RedisResponseHandler flushes")
struct RedisFlushCoalescingTests {
    /// Counts the flushes that reach the socket's side of the pipeline.
    final class FlushCounter: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = ByteBuffer
        var flushes = 0

        func flush(context: ChannelHandlerContext) {
            flushes += 1
            context.flush()
        }
    }

    static func channel() throws -> (EmbeddedChannel, FlushCounter) {
        let channel = EmbeddedChannel()
        let counter = FlushCounter()
        try channel.pipeline.syncOperations.addHandlers(
            counter, RedisResponseHandler()
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        return (channel, counter)
    }

    @Test func commandsSentTogetherLeaveInOneFlush() throws {
        let (channel, counter) = try Self.channel()
        // Closed at the end: an open channel and its pipeline hold each other, and LeakSanitizer
        // reported both (`scripts/test --sanitize address`, 2026-12-05).
        defer { _ = try? channel.finish() }
        let connection = try RedisConnection(channel: channel, commandTimeout: .seconds(5))
        let replies = (0..<3).map { index in connection.send(RedisCommand("GET", "k\(index)")) }
        #expect(counter.flushes == 0, "the flush waits for the loop's next turn")
        channel.embeddedEventLoop.run()
        #expect(counter.flushes == 1)
        var sent = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { sent += String(buffer: buffer) }
        #expect(sent == (0..<3).map { "*2\r\n$3\r\nGET\r\n$2\r\nk\($0)\r\n" }.joined())
        try channel.writeInbound(ByteBuffer(string: "$1\r\na\r\n$1\r\nb\r\n$-1\r\n"))
        #expect(try replies.map { try $0.wait() } == [.bulkString(ByteBuffer(string: "a")), .bulkString(ByteBuffer(string: "b")), .bulkString(nil)])
    }

    @Test func aLoneCommandIsFlushedOnTheNextTurn() throws {
        let (channel, counter) = try Self.channel()
        defer { _ = try? channel.finish() }
        let connection = try RedisConnection(channel: channel, commandTimeout: .seconds(5))
        let reply = connection.send(RedisCommand("PING"))
        channel.embeddedEventLoop.run()
        #expect(counter.flushes == 1)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "*1\r\n$4\r\nPING\r\n")
        // A second command after the first flush gets a flush of its own.
        let second = connection.send(RedisCommand("PING"))
        channel.embeddedEventLoop.run()
        #expect(counter.flushes == 2)
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n+PONG\r\n"))
        #expect(try reply.wait() == .simpleString("PONG"))
        #expect(try second.wait() == .simpleString("PONG"))
    }
}
