import NIOCore
import NIOTLS

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
    /// Whether a valid reply has come: bytes that are not RESP before that mean "not Redis".
    private var answered = false
    /// The server, for messages: "Redis at host:port".
    private let server: String
    /// The TLS settings when the connection uses TLS, to explain its failures.
    private let tls: RedisTLS?
    /// Whether the TLS handshake has completed (NIOSSL's event passed by).
    private var handshakeCompleted = false

    /// Where a TLS failure is also kept for the code that connects.
    private let tlsFailure: RedisTLSFailure?
    /// Whether a flush is already on its way (see ``flush(context:)``).
    private var flushScheduled = false

    /// A handler for a connection to `server` ("Redis at host:port"), with `tls` when it uses TLS.
    init(server: String = "Redis", tls: RedisTLS? = nil, tlsFailure: RedisTLSFailure? = nil) {
        self.server = server
        self.tls = tls
        self.tlsFailure = tlsFailure
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        answered = true
        guard let request = waiting.popFirst() else {
            // A reply nobody asked for: the stream is out of step.
            fail(context: context, RedisClientError(.protocolError, "\(server) sent a reply no command was waiting for"))
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
        // A write that fails closes the channel (NIO closes a socket it cannot write to, and a TLS
        // handler that fails closes it too), and channelInactive then fails every waiting request,
        // this one included; a write that failed without closing it would meet the timer. So no
        // promise of our own per write (two allocations and a callback a command, measured).
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    /// Flushes once for all the commands written in the same turn of the event loop: the flush is
    /// sent as a task of its own, which runs after the writes already queued (each request's
    /// command arrives as an event-loop task), so commands that many requests send at once leave in
    /// one `writev` instead of one system call each.
    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = loopBound.value
            handler.flushScheduled = false
            context.flush()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { handshakeCompleted = true }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if answered || waiting.isEmpty {
            fail(context: context, RedisClientError(.connectionClosed, "the connection to \(server) closed"))
        } else if tls == nil {
            // Closed without a word in answer to the first command: a TLS port does that to plain text.
            fail(context: context, RedisClientError(
                .connectionClosed, "\(server) closed the connection without answering (if that port speaks TLS, use rediss://)"
            ))
        } else {
            fail(context: context, RedisClientError(.connectionClosed, "\(server) closed the connection without answering"))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? RedisClientError {
            fail(context: context, error)
        } else if let error = error as? RESPParser.Error {
            fail(context: context, invalidReply(error))
        } else if error is ByteToMessageDecoderError {
            fail(context: context, RedisClientError(.protocolError, "\(server) sent an invalid reply: \(error)"))
        } else if let tls, let tlsError = tls.clientError(for: error, server: server) {
            tlsFailure?.record(tlsError)
            fail(context: context, tlsError)
        } else if tls == nil, !answered, !waiting.isEmpty {
            // Reset or broken before a word in answer: a TLS port does that to plain text.
            fail(context: context, RedisClientError(
                .connectionClosed, "the connection to \(server) failed before it answered: \(error) (if that port speaks TLS, use rediss://)"
            ))
        } else {
            fail(context: context, RedisClientError(.connectionClosed, "the connection to \(server) failed: \(error)"))
        }
    }

    /// What bytes that are not RESP mean: before any valid reply, that the server is not Redis (or
    /// speaks TLS); after one, a broken stream. Never the bytes themselves: they could echo a command.
    private func invalidReply(_ error: RESPParser.Error) -> RedisClientError {
        guard !answered else {
            return RedisClientError(.protocolError, "\(server) sent an invalid reply (\(error.reason))")
        }
        // 0x15 and 0x16 start TLS alert and handshake records (then 0x03, the version's major byte).
        if tls == nil, let byte = error.unknownTypeByte, byte == 0x15 || byte == 0x16 {
            return RedisClientError(.notRedis, "\(server) answered with TLS: connect with a rediss:// URL (or set the configuration's tls)")
        }
        return RedisClientError(.notRedis, "\(server) does not speak the Redis protocol (RESP2): is it a Redis server? (\(error.reason))")
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
            if tls != nil, !handshakeCompleted {
                // A plain-text server takes the TLS hello for the start of a command and waits for its end.
                fail(context: context, RedisClientError(
                    .tlsFailed, "\(server) did not complete the TLS handshake within \(milliseconds) ms (is it a plain redis:// port?)"
                ))
            } else {
                fail(context: context, RedisClientError(.timeout, "\(server) did not answer within \(milliseconds) ms"))
            }
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
