import NIOCore
import NIOTLS
import SessionKitConnectionPool
import Synchronization

/// A PostgreSQL connection's protocol, on its event loop: the start-up (and authentication:
/// cleartext, MD5 or SCRAM-SHA-256), then statements pipelined with the extended query protocol.
///
/// Each request is `[Parse] Bind Execute Sync`, and the server answers each `Sync` with one
/// `ReadyForQuery`, in order, whatever happened before it (an error skips the rest of that request
/// only), so answers are matched to requests in order and many requests share one connection. A
/// statement is prepared (`Parse` under its name) the first time a connection runs it; a request
/// whose `Parse` failed, or whose `Bind` found no such statement, makes the next one parse again.
///
/// Any failure of the connection itself (a closed socket, a broken stream, a reply timeout) fails
/// every request waiting and closes the channel. One timer per connection watches the oldest
/// request's deadline (answers come in order, so it is always the first due), instead of a timer
/// armed and cancelled per statement.
///
/// It splits the server's bytes into messages itself (``PostgresWireDecoder``, on the bytes it
/// keeps of an incomplete message), and ``PostgresWireConnection`` hands it each request directly,
/// on the channel's event loop (``send(_:)``): neither a request nor a message crosses the pipeline
/// as a type-erased value (a boxed allocation and a dynamic cast each, as in SessionKitRedis's
/// `RedisResponseHandler`). Only bytes do.
///
/// ```swift
/// let handler = PostgresWireHandler(startup: startup, startsAfterTLS: false)
/// try channel.pipeline.syncOperations.addHandler(handler)
/// ```
final class PostgresWireHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What the start-up needs, and the promise it completes when the server is ready for queries.
    /// Its `dump` shows `********` for the password (a dump of a pool or a store reaches it
    /// through the channel's pipeline).
    struct Startup: CustomReflectable {
        /// "PostgreSQL at host:port", for messages.
        let server: String
        let user: String
        let password: String?
        /// `user`, `database` and the options, in order.
        let parameters: [(String, String)]
        /// How long the connection may take from TCP to `ReadyForQuery`.
        let timeout: TimeAmount
        let promise: EventLoopPromise<Void>

        var customMirror: Mirror {
            Mirror(self, children: [
                "server": server, "user": user, "password": password == nil ? "nil" : "********",
                "parameters": parameters.map { "\($0.0)=\($0.1)" }, "timeout": timeout,
            ], displayStyle: .struct)
        }
    }

    private struct Waiting {
        let waiter: PipelinedReplyWaiter<PostgresWireResult>
        let deadline: NIODeadline
        let timeout: TimeAmount
        let statementName: String
        /// Whether this request carried the statement's `Parse`.
        let parses: Bool
    }

    private enum Phase {
        case starting
        case ready
        case failed(PostgresWireError)
    }

    private var phase = Phase.starting
    private let startup: Startup
    /// Whether the start-up waits for the TLS handshake (else it begins when the channel is active).
    private let startsAfterTLS: Bool
    private var scram: PostgresSCRAM?
    private var startupTimer: Scheduled<Void>?

    private var waiting = CircularBuffer<Waiting>(initialCapacity: 8)
    /// The rows and the error of the oldest waiting request, as they arrive.
    private var rows: [ByteBuffer] = []
    private var serverError: PostgresWireError?
    private var parseCompleted = false
    /// The statements this connection has prepared (or has sent the `Parse` of).
    private var prepared: Set<String> = []
    /// A fatal error the server sent with no request waiting (it is shutting down): why it closes.
    private var closingReason: String?

    private var timer: Scheduled<Void>?
    private var flushScheduled = false
    /// The handler's context while it is in a pipeline.
    private var context: ChannelHandlerContext?
    /// The bytes received and not split into messages yet: the start of a message still arriving.
    private var received = PipelinedReceiveBuffer()
    /// Set when the connection fails, before any request learns it.
    private let broken: Broken

    /// Whether the handler has given its connection up, for ``PostgresWireConnection/isActive``:
    /// set before the requests waiting fail, as the channel closes only later (at once in plain
    /// text; over TLS, after the server's `close_notify` or NIOSSL's shutdown timeout, 5 s).
    final class Broken: Sendable {
        private let flag = Atomic<Bool>(false)
        var isSet: Bool { flag.load(ordering: .acquiring) }
        func set() { flag.store(true, ordering: .releasing) }
    }

    init(startup: Startup, startsAfterTLS: Bool, broken: Broken = Broken()) {
        self.startup = startup
        self.startsAfterTLS = startsAfterTLS
        self.broken = broken
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Start-up

    func channelActive(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        startupTimer = context.eventLoop.scheduleTask(in: startup.timeout) {
            let (handler, context) = loopBound.value
            guard case .starting = handler.phase else { return }
            let milliseconds = handler.startup.timeout.nanoseconds / 1_000_000
            handler.fail(context: context, PostgresWireError(
                .connectFailed, "\(handler.startup.server) did not complete the start-up within \(milliseconds) ms"
            ))
        }
        if !startsAfterTLS { sendStartup(context: context) }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if startsAfterTLS, case .starting = phase {
            if case .handshakeCompleted = event as? TLSUserEvent {
                sendStartup(context: context)
            } else if event is PostgresTLSNegotiation.PlainText {
                sendStartup(context: context)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func sendStartup(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 128)
        PostgresWireFrontend.writeStartup(into: &buffer, parameters: startup.parameters)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    private func handleStartup(context: ChannelHandlerContext, _ message: PostgresWireMessage) {
        var body = message.body
        switch message.type {
        case UInt8(ascii: "R"):
            guard let code = body.readInteger(as: Int32.self) else { return protocolError(context: context, "an authentication request without a code") }
            handleAuthentication(context: context, code: code, body: &body)
        case UInt8(ascii: "E"):
            let fields = Self.errorFields(body)
            let state = fields[UInt8(ascii: "C")] ?? "unknown"
            let text = redacted(fields[UInt8(ascii: "M")] ?? "no message")
            let kind: PostgresWireError.Kind = state.hasPrefix("28") ? .authenticationFailed : .connectFailed
            fail(context: context, PostgresWireError(kind, "\(startup.server) refused the connection: \(text) (SQLSTATE \(state))", sqlState: state))
        case UInt8(ascii: "Z"):
            phase = .ready
            scram = nil
            startupTimer?.cancel()
            startupTimer = nil
            startup.promise.succeed()
        case UInt8(ascii: "S"), UInt8(ascii: "K"), UInt8(ascii: "N"), UInt8(ascii: "v"):
            return  // parameter status, the cancellation key, notices, a minor-version note
        default:
            protocolError(context: context, "a message of type \(message.type) during the start-up: is it a PostgreSQL server?")
        }
    }

    private func handleAuthentication(context: ChannelHandlerContext, code: Int32, body: inout ByteBuffer) {
        var out = context.channel.allocator.buffer(capacity: 128)
        switch code {
        case 0:
            return  // AuthenticationOk: ReadyForQuery follows
        case 3, 5:
            guard let password = startup.password else {
                return fail(context: context, PostgresWireError(
                    .authenticationFailed, "\(startup.server) asks for a password for role '\(startup.user)' and none was given"
                ))
            }
            if code == 3 {
                PostgresWireFrontend.writePassword(into: &out, password)
            } else {
                guard let salt = body.readBytes(length: 4) else { return protocolError(context: context, "an MD5 request without a salt") }
                PostgresWireFrontend.writePassword(into: &out, PostgresSCRAM.md5Password(user: startup.user, password: password, salt: salt))
            }
        case 10:
            var mechanisms: [String] = []
            while let name = body.readNullTerminatedString(), !name.isEmpty { mechanisms.append(name) }
            guard mechanisms.contains(PostgresSCRAM.mechanism) else {
                return fail(context: context, PostgresWireError(
                    .authenticationFailed, "\(startup.server) offers only SASL mechanisms SessionKit does not speak (\(mechanisms.joined(separator: ", ")))"
                ))
            }
            guard let password = startup.password else {
                return fail(context: context, PostgresWireError(
                    .authenticationFailed, "\(startup.server) asks for a password (SCRAM-SHA-256) for role '\(startup.user)' and none was given"
                ))
            }
            let client = PostgresSCRAM(password: password)
            scram = client
            PostgresWireFrontend.writeSASLInitialResponse(into: &out, mechanism: PostgresSCRAM.mechanism, data: client.clientFirstMessage)
        case 11:
            guard var client = scram else { return protocolError(context: context, "a SASL continuation out of turn") }
            do {
                let final = try client.clientFinalMessage(serverFirst: body.readBytes(length: body.readableBytes) ?? [])
                scram = client
                PostgresWireFrontend.writeSASLResponse(into: &out, data: final)
            } catch {
                return fail(context: context, PostgresWireError(.authenticationFailed, "SCRAM-SHA-256 with \(startup.server) failed: \(error.reason)"))
            }
        case 12:
            guard let client = scram else { return protocolError(context: context, "a SASL final message out of turn") }
            do {
                try client.verify(serverFinal: body.readBytes(length: body.readableBytes) ?? [])
            } catch {
                return fail(context: context, PostgresWireError(.authenticationFailed, "SCRAM-SHA-256 with \(startup.server) failed: \(error.reason)"))
            }
            return
        default:
            return fail(context: context, PostgresWireError(
                .authenticationFailed, "\(startup.server) asks for an authentication method SessionKit does not speak (code \(code)); use scram-sha-256, md5, password or trust"
            ))
        }
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    // MARK: Requests

    /// Sends `request` (on the channel's event loop, as ``PostgresWireConnection`` calls it): its
    /// messages go out with the next flush, and its waiter gets its answer.
    func send(_ request: PostgresWireRequest) {
        guard let context else {
            request.waiter.fail(PostgresWireError(.notSent, "cannot send to PostgreSQL: the connection is closed"))
            return
        }
        switch phase {
        case .failed(let failure):
            request.waiter.fail(PostgresWireError(.notSent, failure.message))
            return
        case .starting:
            request.waiter.fail(PostgresWireError(.notSent, "\(startup.server): a statement sent before the connection was ready"))
            return
        case .ready:
            break
        }
        let statement = request.statement
        var parses = false
        if !statement.isPrepared || !prepared.contains(statement.name) {
            if statement.isPrepared { prepared.insert(statement.name) }
            parses = true
            context.write(wrapOutboundOut(statement.parseMessage), promise: nil)
        }
        let deadline = context.eventLoop.now + request.timeout
        waiting.append(Waiting(waiter: request.waiter, deadline: deadline, timeout: request.timeout, statementName: statement.name, parses: parses))
        if timer == nil { armTimer(context: context, deadline: deadline) }
        // A write that fails closes the channel, and channelInactive fails every waiting request.
        context.write(wrapOutboundOut(request.bytes), promise: nil)
        scheduleFlush(context: context)
    }

    /// Flushes once for all the requests sent in the same turn of the event loop (see
    /// `RedisResponseHandler`'s flush in SessionKitRedis: one `writev` for many requests).
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
        while true {
            let message: PostgresWireMessage?
            do {
                message = try PostgresWireDecoder.nextMessage(from: &buffer)
            } catch {
                return fail(context: context, error)
            }
            guard let message else { break }
            switch phase {
            case .starting:
                handleStartup(context: context, message)
            case .ready:
                handleAnswer(context: context, message)
            case .failed:
                return
            }
        }
        // At most one message is kept: the decoder refuses a length over its maximum.
        received.keep(buffer)
    }

    private func handleAnswer(context: ChannelHandlerContext, _ message: PostgresWireMessage) {
        switch message.type {
        case UInt8(ascii: "D"):
            rows.append(message.body)
        case UInt8(ascii: "2"), UInt8(ascii: "C"), UInt8(ascii: "I"), UInt8(ascii: "n"), UInt8(ascii: "s"):
            return  // BindComplete, CommandComplete, EmptyQuery, NoData, PortalSuspended
        case UInt8(ascii: "1"):
            parseCompleted = true
        case UInt8(ascii: "E"):
            let fields = Self.errorFields(message.body)
            let state = fields[UInt8(ascii: "C")] ?? "unknown"
            guard !waiting.isEmpty else {
                // FATAL with nothing waiting: the server is going away (57P01 when it shuts down).
                closingReason = "the server ended the session (SQLSTATE \(state))"
                return
            }
            if serverError == nil {
                serverError = PostgresWireError(.server, "\(startup.server) reported an error (SQLSTATE \(state))", sqlState: state)
            }
        case UInt8(ascii: "Z"):
            guard let request = waiting.popFirst() else {
                return protocolError(context: context, "an answer no statement was waiting for")
            }
            let result = rows
            let error = serverError
            let parsed = parseCompleted
            rows = []
            serverError = nil
            parseCompleted = false
            if let error {
                // Parse again next time when this request's Parse failed, or the statement is gone
                // (26000: a pooler or DISCARD ALL dropped it).
                // Not when a later request already carries a new Parse of it (sent after an earlier
                // failure): the statement is prepared again once that one is through.
                if (request.parses && !parsed) || error.sqlState == "26000",
                    !waiting.contains(where: { $0.parses && $0.statementName == request.statementName }) {
                    prepared.remove(request.statementName)
                }
                request.waiter.fail(error)
            } else {
                request.waiter.succeed(PostgresWireResult(rows: result))
            }
        case UInt8(ascii: "N"), UInt8(ascii: "S"), UInt8(ascii: "A"), UInt8(ascii: "K"):
            return  // notices, parameter status, notifications
        default:
            protocolError(context: context, "a message of type \(message.type) where none was expected")
        }
    }

    // MARK: Failures

    func channelInactive(context: ChannelHandlerContext) {
        let reason = closingReason.map { ": \($0)" } ?? ""
        if case .starting = phase {
            fail(context: context, PostgresWireError(.connectFailed, "\(startup.server) closed the connection during the start-up\(reason)"))
        } else {
            fail(context: context, PostgresWireError(.connectionClosed, "the connection to \(startup.server) closed\(reason)"))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? PostgresWireError {
            fail(context: context, error)
        } else if let tlsError = PostgresTLSNegotiation.clientError(for: error, server: startup.server) {
            fail(context: context, tlsError)
        } else if case .starting = phase {
            fail(context: context, PostgresWireError(.connectFailed, "the connection to \(startup.server) failed during the start-up: \(error)"))
        } else {
            fail(context: context, PostgresWireError(.connectionClosed, "the connection to \(startup.server) failed: \(error)"))
        }
    }

    private func protocolError(context: ChannelHandlerContext, _ what: String) {
        fail(context: context, PostgresWireError(.protocolError, "\(startup.server) sent \(what)"))
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
            fail(context: context, PostgresWireError(.timeout, "\(startup.server) did not answer within \(milliseconds) ms"))
        } else {
            armTimer(context: context, deadline: oldest.deadline)
        }
    }

    private func fail(context: ChannelHandlerContext, _ error: PostgresWireError) {
        broken.set()
        switch phase {
        case .starting:
            phase = .failed(error)
            startup.promise.fail(error)
        case .ready:
            phase = .failed(error)
        case .failed:
            break
        }
        startupTimer?.cancel()
        startupTimer = nil
        timer?.cancel()
        timer = nil
        while let request = waiting.popFirst() { request.waiter.fail(error) }
        if context.channel.isActive { context.close(promise: nil) }
    }

    /// The server's message with the password cut out, should anything echo it; at most 200 characters.
    private func redacted(_ text: String) -> String {
        var text = text
        if let password = startup.password, !password.isEmpty { text = text.replacing(password, with: "[password]") }
        return String(text.prefix(200))
    }

    /// The fields of an `ErrorResponse` or `NoticeResponse`: a type byte and a C string each.
    static func errorFields(_ body: ByteBuffer) -> [UInt8: String] {
        var body = body
        var fields: [UInt8: String] = [:]
        while let type = body.readInteger(as: UInt8.self), type != 0, let value = body.readNullTerminatedString() {
            fields[type] = value
        }
        return fields
    }
}
