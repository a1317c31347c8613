import NIOCore
import NIOPosix
import NIOSSL
import SessionKitConnectionPool

/// One TCP connection to a Redis server speaking RESP2. Commands may be sent concurrently: they are
/// pipelined and their replies matched in order. A command that gets no reply within its timeout
/// fails, and so does the connection (it is closed, since later replies could no longer be matched);
/// ``isActive`` then turns `false` and ``RedisConnectionPool`` replaces it.
///
/// ```swift
/// let connection = try await RedisConnection.connect(to: .init(host: "127.0.0.1", port: 6379)).get()
/// let reply = try await connection.send(RedisCommand("PING"))    // .simpleString("PONG")
/// connection.close()
/// ```
package final class RedisConnection: Sendable {
    /// Where and how to connect.
    package struct Options: Sendable {
        package var host: String
        package var port: Int
        package var username: String?
        package var password: String?
        package var database: Int
        package var connectTimeout: TimeAmount
        package var commandTimeout: TimeAmount
        package var clientName: String?
        /// TLS settings; `nil` connects in plain text.
        package var tls: RedisTLS?

        package init(
            host: String, port: Int, username: String? = nil, password: String? = nil, database: Int = 0,
            connectTimeout: TimeAmount = .seconds(5), commandTimeout: TimeAmount = .seconds(5), clientName: String? = nil,
            tls: RedisTLS? = nil
        ) {
            self.tls = tls
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.clientName = clientName
        }
    }

    let channel: any Channel
    let commandTimeout: TimeAmount
    /// The channel's ``RedisResponseHandler``, which ``send(_:)`` hands requests to on the event loop.
    let handler: NIOLoopBound<RedisResponseHandler>

    /// A connection on `channel`, whose pipeline has its ``RedisResponseHandler``; made on the
    /// channel's event loop.
    init(channel: any Channel, commandTimeout: TimeAmount) throws {
        self.channel = channel
        self.commandTimeout = commandTimeout
        self.handler = NIOLoopBound(try channel.pipeline.syncOperations.handler(type: RedisResponseHandler.self), eventLoop: channel.eventLoop)
    }

    /// Whether the connection can still carry commands.
    package var isActive: Bool { channel.isActive }

    /// Opens a connection (with TLS when `options` ask, using `tlsContext` or one made from
    /// ``Options/tls``), then authenticates (`AUTH`), selects the database (`SELECT`) and names the
    /// client (`CLIENT SETNAME`) as `options` ask, or sends `PING` when there is none of these, so
    /// a server that is not Redis (or a TLS mismatch) fails here. Fails with
    /// ``RedisClientError/Kind/connectFailed``, or with a kind that says what is wrong:
    /// ``RedisClientError/Kind/authenticationFailed``, ``RedisClientError/Kind/databaseUnavailable``,
    /// ``RedisClientError/Kind/notRedis``, ``RedisClientError/Kind/tlsFailed``. No message contains
    /// the password.
    package static func connect(
        to options: RedisConnection.Options, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tlsContext: NIOSSLContext? = nil
    ) -> EventLoopFuture<RedisConnection> {
        let address = options.host.contains(":") ? "[\(options.host)]:\(options.port)" : "\(options.host):\(options.port)"
        let server = "Redis at \(address)"
        let eventLoop = group.next()
        var sslContext: NIOSSLContext?
        if let tls = options.tls {
            do {
                sslContext = try tlsContext ?? tls.makeContext()
            } catch {
                return eventLoop.makeFailedFuture(error)
            }
        }
        let tlsFailure = RedisTLSFailure()
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(options.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [sslContext] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext, let tls = options.tls {
                        let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: tls.expectedName(host: options.host))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        RedisResponseHandler(server: server, tls: options.tls, tlsFailure: tlsFailure)
                    )
                }
            }
        let connected = bootstrap.connect(host: options.host, port: options.port).flatMapThrowing { channel in
            try RedisConnection(channel: channel, commandTimeout: options.commandTimeout)
        }
        let handshake = connected.flatMap { connection -> EventLoopFuture<RedisConnection> in
            var setup: [(RedisCommand, SetupStep)] = []
            if let password = options.password {
                var auth = RedisCommand("AUTH")
                if let username = options.username { auth.append(username) }
                auth.append(password)
                setup.append((auth, .auth))
            }
            if options.database != 0 { setup.append((RedisCommand("SELECT", String(options.database)), .select)) }
            if let name = options.clientName { setup.append((RedisCommand("CLIENT", "SETNAME", name), .setName)) }
            if setup.isEmpty { setup.append((RedisCommand("PING"), .ping)) }
            var future = connection.channel.eventLoop.makeSucceededVoidFuture()
            for (command, step) in setup {
                future = future.flatMap {
                    connection.send(command).flatMapThrowing { reply in
                        try step.check(reply, server: server, options: options)
                    }
                }
            }
            return future.map { connection }.flatMapErrorThrowing { error in
                connection.close()
                throw error
            }
        }
        return handshake.flatMapErrorThrowing { error in
            // A failed handshake can surface first as a write on the closed channel: say why it closed.
            if let tlsError = tlsFailure.error { throw tlsError }
            if let error = error as? RedisClientError {
                switch error.kind {
                case .connectFailed, .authenticationFailed, .databaseUnavailable, .notRedis, .tlsFailed: throw error
                // The message names the server already ("Redis at host:port closed the connection").
                default: throw RedisClientError(.connectFailed, error.message)
                }
            }
            if let tls = options.tls, let tlsError = tls.clientError(for: error, server: server) { throw tlsError }
            throw RedisClientError(.connectFailed, "cannot connect to \(server): \(error)")
        }
    }

    /// A command sent while connecting, and what its reply must be.
    private enum SetupStep {
        case auth, select, setName, ping

        func check(_ reply: RESPValue, server: String, options: Options) throws {
            switch reply {
            case .simpleString(let text) where self != .ping || text == "PONG":
                return
            case .error(let message):
                throw refused(Self.redacted(message, options.password), server: server, options: options)
            default:
                // A RESP value, but not what Redis answers: never shown (it could echo the command).
                throw RedisClientError(.notRedis, "\(server) answered \(name) with something Redis does not send: is it a Redis server?")
            }
        }

        var name: String {
            switch self {
            case .auth: "AUTH"
            case .select: "SELECT"
            case .setName: "CLIENT SETNAME"
            case .ping: "PING"
            }
        }

        private func refused(_ message: String, server: String, options: Options) -> RedisClientError {
            let code = message.prefix { $0 != " " }
            if code == "NOAUTH" {
                return RedisClientError(
                    .authenticationFailed,
                    "\(server) requires a password (NOAUTH): give one in the configuration or the URL (redis://:password@host)"
                )
            }
            switch self {
            case .auth:
                let user = options.username.map { "user '\($0)'" } ?? "the default user"
                if code == "WRONGPASS" {
                    return RedisClientError(
                        .authenticationFailed,
                        "\(server) rejected the password for \(user) (WRONGPASS: wrong password, unknown user, or user disabled)"
                    )
                }
                return RedisClientError(.authenticationFailed, "\(server) refused AUTH for \(user): \(message)")
            case .select:
                return RedisClientError(
                    .databaseUnavailable,
                    "\(server) has no database \(options.database) (\(message)); it has as many as its `databases` setting, 16 by default"
                )
            case .setName, .ping:
                return RedisClientError(.connectFailed, "\(server) refused \(name): \(message)")
            }
        }

        /// The server's message, at most 200 characters, with the password cut out should the
        /// server (or something posing as one) echo it.
        static func redacted(_ message: String, _ password: String?) -> String {
            var message = message
            if let password, !password.isEmpty {
                message = message.replacing(password, with: "[password]")
            }
            return String(message.prefix(200))
        }
    }

    /// Sends `command` and completes with its reply (an error reply is a value, ``RESPValue/error(_:)``).
    /// The handler times the reply out (one timer per connection, see ``RedisResponseHandler``), so
    /// sending is one hand-over to the channel's event loop.
    package func send(_ command: RedisCommand) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        enqueue(RedisRequest(bytes: command.encoded(allocator: channel.allocator), waiter: .promise(promise), timeout: commandTimeout))
        return promise.futureResult
    }

    /// Sends `command` and returns its reply: the task waits on its own continuation, which the
    /// handler resumes (a `PipelinedReplyWaiter`).
    package func send(_ command: RedisCommand) async throws -> RESPValue {
        let bytes = command.encoded(allocator: channel.allocator)
        return try await withUnsafeThrowingContinuation { continuation in
            enqueue(RedisRequest(bytes: bytes, waiter: .continuation(continuation), timeout: commandTimeout))
        }
    }

    /// Hands `request` to the handler on the channel's event loop. There, an active channel still
    /// has its handler (handlers come down only after it turns inactive, on the same loop), which
    /// answers the request: with its reply, or with the failure that closes the connection. An
    /// inactive channel's handler may be gone from the pipeline, and nobody would answer: fail it here.
    private func enqueue(_ request: RedisRequest) {
        let channel = self.channel
        let handler = self.handler
        @Sendable func write() {
            guard channel.isActive else {
                request.waiter.fail(RedisClientError(.connectionClosed, "cannot send to Redis: the connection is closed"))
                return
            }
            handler.value.send(request)
        }
        if channel.eventLoop.inEventLoop { write() } else { channel.eventLoop.execute(write) }
    }

    /// Closes the connection; commands waiting fail.
    package func close() {
        channel.close(promise: nil)
    }
}
