import NIOCore
import NIOEmbedded
import Testing
@testable import SessionKitRedis

/// The handler's one timer per connection, on an embedded channel whose clock the test moves: each
/// command fails exactly at its own deadline, a reply before it wins, and a timeout fails every
/// command still waiting and closes the connection.
@Suite("RedisResponseHandler timeouts")
struct RedisResponseHandlerTests {
    static func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(RedisResponseHandler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        return channel
    }

    /// Sends a PING with `timeout` through ``RedisConnection/send(_:)``; the returned box fills in
    /// when the command completes.
    static func send(_ channel: EmbeddedChannel, timeout: TimeAmount) throws -> Outcome {
        let outcome = Outcome()
        try RedisConnection(channel: channel, commandTimeout: timeout).send(RedisCommand("PING")).whenComplete { outcome.result = $0 }
        _ = try channel.readOutbound(as: ByteBuffer.self)   // the encoded command, sent
        return outcome
    }

    final class Outcome: @unchecked Sendable {
        var result: Result<RESPValue, any Error>?
        var succeeded: Bool { if case .success = result { true } else { false } }
        var timedOut: Bool {
            if case .failure(let error as RedisClientError) = result { return error.kind == .timeout }
            return false
        }
    }

    @Test func eachCommandTimesOutAtItsOwnDeadline() throws {
        let channel = try Self.channel()
        let connection = try RedisConnection(channel: channel, commandTimeout: .seconds(1))
        let first = try Self.send(channel, timeout: .milliseconds(100))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(50))
        let second = try Self.send(channel, timeout: .milliseconds(100))   // deadline at 150 ms
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(30))
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))           // the first, at 80 ms
        #expect(first.succeeded)
        // At 100 ms the timer finds the first answered and moves on to the second's deadline.
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(60))       // 140 ms
        #expect(second.result == nil)
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(10))       // 150 ms
        #expect(second.timedOut)
        #expect(!channel.isActive)
        // A command after the timeout fails at once: the connection is closed.
        let late = Outcome()
        connection.send(RedisCommand("PING")).whenComplete { late.result = $0 }
        #expect(late.result != nil && !late.succeeded)
    }

    @Test func repliesBeforeTheirDeadlinesNeverTimeOut() throws {
        let channel = try Self.channel()
        var outcomes: [Outcome] = []
        // A steady stream: a command every 40 ms, each answered 60 ms later, timeout 100 ms.
        for step in 0..<20 {
            outcomes.append(try Self.send(channel, timeout: .milliseconds(100)))
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(20))
            if step >= 1 { try channel.writeInbound(ByteBuffer(string: "+PONG\r\n")) }
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(20))
        }
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(outcomes.allSatisfy { $0.succeeded })
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    @Test func aTimeoutFailsEveryWaitingCommand() throws {
        let channel = try Self.channel()
        let outcomes = try (0..<3).map { _ in try Self.send(channel, timeout: .milliseconds(100)) }
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(99))
        #expect(outcomes.allSatisfy { $0.result == nil })
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(outcomes[0].timedOut)
        #expect(outcomes.allSatisfy { if case .failure = $0.result { true } else { false } })
    }
}
