import NIOCore

/// A request on its way to the server: the encoded command, the promise its reply fulfils, and
/// how long the reply may take.
///
/// ```swift
/// channel.writeAndFlush(RedisRequest(bytes: RedisCommand("PING").encoded(), promise: promise, timeout: .seconds(5)), promise: nil)
/// ```
struct RedisRequest: Sendable {
    let bytes: ByteBuffer
    let promise: EventLoopPromise<RESPValue>
    let timeout: TimeAmount
}

/// Matches replies to requests in order (RESP answers every command, in order), so requests may be
/// pipelined on one connection. Any error (a decoding failure, a timeout, a closed connection) fails
/// every request waiting and closes the channel: after that, replies could not be matched again.
///
/// Timeouts: replies come in order, so the oldest waiting request is always the first to reach its
/// deadline. One timer per connection watches that request's deadline (and moves on to the next
/// one's when it fires after the reply came), instead of a timer scheduled and cancelled for every
/// command.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(RESPDecoder(parser: RESPParser())), RedisResponseHandler())
/// ```
final class RedisResponseHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        let promise: EventLoopPromise<RESPValue>
        let deadline: NIODeadline
        let timeout: TimeAmount
    }

    private var waiting = CircularBuffer<Waiting>(initialCapacity: 8)
    private var failure: RedisClientError?
    /// The timer for the oldest waiting request's deadline (or an older one's: it then moves on).
    private var timer: Scheduled<Void>?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let request = waiting.popFirst() else {
            // A reply nobody asked for: the stream is out of step.
            fail(context: context, RedisClientError(.protocolError, "Redis sent a reply no command was waiting for"))
            return
        }
        request.promise.succeed(value)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        let deadline = context.eventLoop.now + request.timeout
        waiting.append(Waiting(promise: request.promise, deadline: deadline, timeout: request.timeout))
        if timer == nil { armTimer(context: context, deadline: deadline) }
        let written = context.eventLoop.makePromise(of: Void.self)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        written.futureResult.whenFailure { error in
            let (handler, context) = loopBound.value
            handler.fail(context: context, RedisClientError(.connectionClosed, "writing to Redis failed: \(error)"))
        }
        if let promise { written.futureResult.cascade(to: promise) }
        context.write(wrapOutboundOut(request.bytes), promise: written)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context: context, RedisClientError(.connectionClosed, "the connection to Redis closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? RedisClientError {
            fail(context: context, error)
        } else if error is RESPParser.Error || error is ByteToMessageDecoderError {
            fail(context: context, RedisClientError(.protocolError, "Redis sent an invalid reply: \(error)"))
        } else {
            fail(context: context, RedisClientError(.connectionClosed, "the connection to Redis failed: \(error)"))
        }
    }

    private func armTimer(context: ChannelHandlerContext, deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        guard let oldest = waiting.first else { return }
        if oldest.deadline <= context.eventLoop.now {
            let milliseconds = oldest.timeout.nanoseconds / 1_000_000
            fail(context: context, RedisClientError(.timeout, "Redis did not answer within \(milliseconds) ms"))
        } else {
            armTimer(context: context, deadline: oldest.deadline)
        }
    }

    private func fail(context: ChannelHandlerContext, _ error: RedisClientError) {
        if failure == nil { failure = error }
        timer?.cancel()
        timer = nil
        while let request = waiting.popFirst() { request.promise.fail(error) }
        if context.channel.isActive { context.close(promise: nil) }
    }
}
