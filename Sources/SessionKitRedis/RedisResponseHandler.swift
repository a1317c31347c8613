import NIOCore

/// A request on its way to the server: the encoded command and the promise its reply fulfils.
///
/// ```swift
/// channel.writeAndFlush(RedisRequest(bytes: RedisCommand("PING").encoded(), promise: promise), promise: nil)
/// ```
struct RedisRequest: Sendable {
    let bytes: ByteBuffer
    let promise: EventLoopPromise<RESPValue>
}

/// Matches replies to requests in order (RESP answers every command, in order), so requests may be
/// pipelined on one connection. Any error (a decoding failure, a timeout, a closed connection) fails
/// every request waiting and closes the channel: after that, replies could not be matched again.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(RESPDecoder(parser: RESPParser())), RedisResponseHandler())
/// ```
final class RedisResponseHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>(initialCapacity: 8)
    private var failure: RedisClientError?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let promise = waiting.popFirst() else {
            // A reply nobody asked for: the stream is out of step.
            fail(context: context, RedisClientError(.protocolError, "Redis sent a reply no command was waiting for"))
            return
        }
        promise.succeed(value)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        waiting.append(request.promise)
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

    private func fail(context: ChannelHandlerContext, _ error: RedisClientError) {
        if failure == nil { failure = error }
        while let promise = waiting.popFirst() { promise.fail(error) }
        if context.channel.isActive { context.close(promise: nil) }
    }
}
