import NIOCore
import NIOTLS
import SessionKitConnectionPool

/// A request on its way to the server: the encoded command, who waits for its reply, and how long
/// the reply may take.
///
/// ```swift
/// connection.handler.value.send(RedisRequest(bytes: RedisCommand("PING").encoded(), waiter: .promise(promise), timeout: .seconds(5)))
/// ```
struct RedisRequest: Sendable {
    let bytes: ByteBuffer
    let waiter: PipelinedReplyWaiter<RESPValue>
    let timeout: TimeAmount
}

/// Sends commands and matches replies to them in order (RESP answers every command, in order), so
/// requests may be pipelined on one connection. Any error (an invalid reply, a timeout, a closed
/// connection) fails every request waiting and closes the channel: after that, replies could not be
/// matched again.
///
/// The handler decodes the replies itself (``RESPParser``, which resumes where it stopped, on the
/// bytes it keeps of an incomplete reply), and ``RedisConnection`` hands it each request directly,
/// on the channel's event loop: neither a request nor a reply crosses the pipeline as a type-erased
/// message (each such crossing cost a boxed allocation and a dynamic cast; measured with callgrind,
/// Benchmarks/history/round-13.md). Only bytes do.
///
/// Timeouts: replies come in order, so the oldest waiting request is always the first to reach its
/// deadline. One timer per connection watches that request's deadline (and moves on to the next
/// one's when it fires after the reply came), instead of a timer scheduled and cancelled for every
/// command.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(RedisResponseHandler())
/// let connection = try RedisConnection(channel: channel, commandTimeout: .seconds(5))   // on the channel's event loop
/// ```
final class RedisResponseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The most bytes kept of one incomplete reply (a larger one fails the connection); Redis's
    /// own `proto-max-bulk-len` default is 512 MB.
    static let maximumReplyBytes = 1 << 30

    private struct Waiting {
        let waiter: PipelinedReplyWaiter<RESPValue>
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
    /// Whether a flush is already on its way (see ``scheduleFlush(context:)``).
    private var flushScheduled = false
    /// Decodes the replies.
    private var parser = RESPParser()
    /// The bytes received and not consumed yet: the start of a reply still arriving.
    private var received = PipelinedReceiveBuffer()
    /// The handler's context while it is in a pipeline.
    private var context: ChannelHandlerContext?

    /// A handler for a connection to `server` ("Redis at host:port"), with `tls` when it uses TLS.
    init(server: String = "Redis", tls: RedisTLS? = nil, tlsFailure: RedisTLSFailure? = nil) {
        self.server = server
        self.tls = tls
        self.tlsFailure = tlsFailure
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Sends `request` (on the channel's event loop, as ``RedisConnection`` calls it): its bytes go
    /// out with the next flush, and its waiter gets its reply.
    func send(_ request: RedisRequest) {
        guard let context else {
            request.waiter.fail(RedisClientError(.connectionClosed, "cannot send to Redis: the connection is closed"))
            return
        }
        if let failure {
            request.waiter.fail(failure)
            return
        }
        let deadline = context.eventLoop.now + request.timeout
        waiting.append(Waiting(waiter: request.waiter, deadline: deadline, timeout: request.timeout))
        if timer == nil { armTimer(context: context, deadline: deadline) }
        // A write that fails closes the channel (NIO closes a socket it cannot write to, and a TLS
        // handler that fails closes it too), and channelInactive then fails every waiting request,
        // this one included; a write that failed without closing it would meet the timer. So no
        // promise per write (two allocations and a callback a command, measured).
        context.write(wrapOutboundOut(request.bytes), promise: nil)
        scheduleFlush(context: context)
    }

    /// Flushes once for all the commands sent in the same turn of the event loop: the flush is
    /// sent as a task of its own, which runs after the sends already queued (each request's
    /// command arrives as an event-loop task), so commands that many requests send at once leave in
    /// one `writev` instead of one system call each.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = loopBound.value
            handler.flushScheduled = false
            context.flush()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = received.joined(with: unwrapInboundIn(data))
        do {
            while failure == nil, let value = try parser.parse(&buffer) {
                answered = true
                guard let request = waiting.popFirst() else {
                    // A reply nobody asked for: the stream is out of step.
                    fail(context: context, RedisClientError(.protocolError, "\(server) sent a reply no command was waiting for"))
                    return
                }
                request.waiter.succeed(value)
            }
        } catch {
            fail(context: context, invalidReply(error))
            return
        }
        guard failure == nil else { return }
        guard buffer.readableBytes <= Self.maximumReplyBytes else {
            fail(context: context, RedisClientError(.protocolError, "\(server) sent a reply longer than \(Self.maximumReplyBytes) bytes"))
            return
        }
        received.keep(buffer)
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
        while let request = waiting.popFirst() { request.waiter.fail(error) }
        if context.channel.isActive { context.close(promise: nil) }
    }
}
