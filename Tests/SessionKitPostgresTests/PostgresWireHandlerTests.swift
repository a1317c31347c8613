import NIOCore
import NIOEmbedded
import Testing
import SessionKitConnectionPool
@testable import SessionKitPostgres

/// ``PostgresWireHandler`` splits the server's bytes into messages itself: a message may arrive in
/// any number of reads, and one read may hold several messages and the start of the next.
@Suite("PostgreSQL wire handler reads")
struct PostgresWireHandlerTests {
    /// A message: its type byte, its length (counting itself) and its body.
    static func message(_ type: Character, _ body: [UInt8]) -> [UInt8] {
        let length = UInt32(body.count + 4)
        return [type.asciiValue!] + withUnsafeBytes(of: length.bigEndian) { Array($0) } + body
    }

    /// An embedded channel with the handler (no TLS), started: the start-up sent, the server's
    /// answers to it written in `chunk`-byte reads. Returns the channel and the start-up's future.
    static func started(chunk: Int) throws -> (EmbeddedChannel, EventLoopFuture<Void>, PostgresWireHandler) {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let startup = PostgresWireHandler.Startup(
            server: "PostgreSQL at test", user: "u", password: nil, parameters: [("user", "u")], timeout: .seconds(10), promise: promise
        )
        let handler = PostgresWireHandler(startup: startup, startsAfterTLS: false)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5432)).wait()
        _ = try channel.readOutbound(as: ByteBuffer.self) // the start-up message
        let answers = message("R", [0, 0, 0, 0]) + message("S", Array("client_encoding\0UTF8\0".utf8)) + message("Z", [UInt8(ascii: "I")])
        try write(answers, to: channel, chunk: chunk)
        return (channel, promise.futureResult, handler)
    }

    static func write(_ bytes: [UInt8], to channel: EmbeddedChannel, chunk: Int) throws {
        var offset = 0
        while offset < bytes.count {
            try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<min(offset + chunk, bytes.count)]))
            offset += chunk
        }
    }

    @Test(arguments: [1, 2, 7, 1000])
    func messagesSplitAnywhereAreRead(chunk: Int) throws {
        let (channel, started, handler) = try Self.started(chunk: chunk)
        // Finished even when the handler closed it: that runs the loop's pending tasks (the flush
        // and the timers hold the handler and its context), which would leak the channel if left.
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try started.wait()
        // Two statements; their answers (ParseComplete, BindComplete, a row, CommandComplete,
        // ReadyForQuery each, a long row in the first) in pieces of `chunk` bytes.
        let statement = PostgresWireStatement(name: "", sql: "SELECT 1", parameterTypes: [])
        let first = channel.eventLoop.makePromise(of: PostgresWireResult.self)
        let second = channel.eventLoop.makePromise(of: PostgresWireResult.self)
        for promise in [first, second] {
            handler.send(PostgresWireRequest(statement: statement, bytes: ByteBuffer(), waiter: .promise(promise), timeout: .seconds(10)))
        }
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 10_000)
        func answer(_ row: [UInt8]) -> [UInt8] {
            Self.message("1", []) + Self.message("2", []) + Self.message("D", row) + Self.message("C", Array("SELECT 1\0".utf8))
                + Self.message("Z", [UInt8(ascii: "I")])
        }
        try Self.write(answer(long) + answer([1, 2, 3]), to: channel, chunk: chunk)
        #expect(try first.futureResult.wait().rows == [ByteBuffer(bytes: long)])
        #expect(try second.futureResult.wait().rows == [ByteBuffer(bytes: [1, 2, 3])])
    }

    @Test func anImpossibleLengthFailsTheConnection() throws {
        let (channel, started, handler) = try Self.started(chunk: 3)
        // Finished even when the handler closed it: that runs the loop's pending tasks (the flush
        // and the timers hold the handler and its context), which would leak the channel if left.
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try started.wait()
        let waiting = channel.eventLoop.makePromise(of: PostgresWireResult.self)
        handler.send(PostgresWireRequest(statement: PostgresWireStatement(name: "", sql: "SELECT 1", parameterTypes: []),
                                         bytes: ByteBuffer(), waiter: .promise(waiting), timeout: .seconds(10)))
        _ = try? channel.writeInbound(ByteBuffer(bytes: [UInt8(ascii: "D"), 0, 0, 0, 2]))
        let error = #expect(throws: PostgresWireError.self) { try waiting.futureResult.wait() }
        #expect(error?.kind == .protocolError)
        #expect(!channel.isActive)
    }
}
