import NIOCore
import NIOPosix
import NIOSSL
import SessionKitConnectionPool

/// One of SessionKit's own connections to PostgreSQL, for the store's request path: the store's
/// statements, pipelined (many requests share the connection; answers come back in order) and
/// prepared once per connection. A statement that gets no answer within its timeout fails, and so
/// does the connection (it is closed, since later answers could no longer be matched); ``isActive``
/// then turns `false` and ``PostgresWirePool`` replaces it.
///
/// ```swift
/// let connection = try await PostgresWireConnection.connect(to: options).get()
/// let result = try await connection.run(statement, bindings).get()
/// connection.close()
/// ```
final class PostgresWireConnection: Sendable {
    /// Where and how to connect. Its `description` and `dump` show `********` for the password.
    struct Options: Sendable, CustomStringConvertible, CustomReflectable {
        enum TLS: Sendable {
            case disable
            /// TLS when the server offers it, else plain text (`sslmode=prefer`).
            case prefer(NIOSSLContext)
            /// TLS or no connection; `serverHostname` is the name sent as SNI and, with full
            /// verification, checked against the certificate (`nil` for an IP address).
            case require(NIOSSLContext)
        }

        var host: String
        var port: Int
        var username: String
        var password: String?
        var database: String?
        var tls: TLS
        /// Start-up parameters beyond `user` and `database` (`statement_timeout`, `application_name`).
        var parameters: [(String, String)]
        /// How long connecting may take, from TCP to `ReadyForQuery`.
        var connectTimeout: TimeAmount
        /// How long a statement's answer may take before the connection is given up.
        var replyTimeout: TimeAmount

        var description: String {
            "PostgresWireConnection.Options(\(username)\(password == nil ? "" : ":********")@\(host):\(port)/\(database ?? ""))"
        }

        var customMirror: Mirror {
            Mirror(self, children: [
                "host": host, "port": port, "username": username, "password": password == nil ? "nil" : "********",
                "database": database as Any, "parameters": parameters.map { "\($0.0)=\($0.1)" },
                "connectTimeout": connectTimeout, "replyTimeout": replyTimeout,
            ], displayStyle: .struct)
        }
    }

    let channel: any Channel
    let replyTimeout: TimeAmount
    private let broken: PostgresWireHandler.Broken
    /// The channel's handler, which ``run(_:_:)`` hands requests to on the event loop.
    private let handler: NIOLoopBound<PostgresWireHandler>

    /// Made on the channel's event loop, once the start-up is through.
    private init(channel: any Channel, replyTimeout: TimeAmount, broken: PostgresWireHandler.Broken) throws {
        self.channel = channel
        self.replyTimeout = replyTimeout
        self.broken = broken
        self.handler = NIOLoopBound(try channel.pipeline.syncOperations.handler(type: PostgresWireHandler.self), eventLoop: channel.eventLoop)
    }

    /// Whether the connection can still carry statements: `false` from the moment it failed (a
    /// reply timeout, a broken stream), before the statements waiting on it fail, even while its
    /// channel is still closing.
    var isActive: Bool { channel.isActive && !broken.isSet }

    /// Opens a connection: TCP, TLS as ``Options/tls`` says, the start-up and authentication.
    /// Fails with a ``PostgresWireError`` that says what went wrong, never with the password.
    static func connect(to options: Options, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) -> EventLoopFuture<PostgresWireConnection> {
        let address = options.host.contains(":") ? "[\(options.host)]:\(options.port)" : "\(options.host):\(options.port)"
        let server = "PostgreSQL at \(address)"
        let eventLoop = group.next()
        let values = [options.username, options.database ?? "", options.password ?? ""] + options.parameters.flatMap { [$0.0, $0.1] }
        if values.contains(where: { $0.utf8.contains(0) }) {
            return eventLoop.makeFailedFuture(PostgresWireError(.connectFailed, "a user, database, password or parameter for \(server) holds a NUL byte"))
        }
        var parameters = [("user", options.username)]
        if let database = options.database { parameters.append(("database", database)) }
        // Text values go both ways as UTF-8, whatever the database's encoding.
        parameters.append(("client_encoding", "UTF8"))
        parameters += options.parameters
        let started = eventLoop.makePromise(of: Void.self)
        let startup = PostgresWireHandler.Startup(
            server: server, user: options.username, password: options.password, parameters: parameters,
            timeout: options.connectTimeout, promise: started
        )
        let serverHostname = (try? SocketAddress(ipAddress: options.host, port: 0)) == nil ? options.host : nil
        let broken = PostgresWireHandler.Broken()
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(options.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    switch options.tls {
                    case .disable:
                        break
                    case .prefer(let context):
                        try sync.addHandler(PostgresTLSNegotiation(context: context, serverHostname: serverHostname, required: false, server: server))
                    case .require(let context):
                        try sync.addHandler(PostgresTLSNegotiation(context: context, serverHostname: serverHostname, required: true, server: server))
                    }
                    let startsAfterTLS: Bool
                    if case .disable = options.tls { startsAfterTLS = false } else { startsAfterTLS = true }
                    try sync.addHandler(PostgresWireHandler(startup: startup, startsAfterTLS: startsAfterTLS, broken: broken))
                }
            }
        return bootstrap.connect(host: options.host, port: options.port)
            .flatMapErrorThrowing { error in
                if let error = error as? PostgresWireError { throw error }
                started.fail(PostgresWireError(.connectFailed, "cannot connect to \(server): \(error)"))
                throw PostgresWireError(.connectFailed, "cannot connect to \(server): \(error)")
            }
            .flatMap { channel in
                started.futureResult
                    .flatMapThrowing { try PostgresWireConnection(channel: channel, replyTimeout: options.replyTimeout, broken: broken) }
                    .flatMapErrorThrowing { error in
                        channel.close(promise: nil)
                        throw error
                    }
            }
    }

    /// Runs `statement` with `bindings` and completes with its rows, or a ``PostgresWireError``
    /// (``PostgresWireError/Kind/notSent`` when the connection had closed before it was sent).
    func run(_ statement: PostgresWireStatement, _ bindings: PostgresWireBindings) -> EventLoopFuture<PostgresWireResult> {
        let promise = channel.eventLoop.makePromise(of: PostgresWireResult.self)
        enqueue(PostgresWireRequest(statement: statement, bytes: Self.encoded(statement, bindings, allocator: channel.allocator),
                                    waiter: .promise(promise), timeout: replyTimeout))
        return promise.futureResult
    }

    /// The same, for a task: it waits on its own continuation, which the handler resumes.
    func run(_ statement: PostgresWireStatement, _ bindings: PostgresWireBindings) async throws -> PostgresWireResult {
        let bytes = Self.encoded(statement, bindings, allocator: channel.allocator)
        return try await withUnsafeThrowingContinuation { continuation in
            enqueue(PostgresWireRequest(statement: statement, bytes: bytes, waiter: .continuation(continuation), timeout: replyTimeout))
        }
    }

    /// `Bind`, `Execute` and `Sync` for `statement` with `bindings`.
    private static func encoded(_ statement: PostgresWireStatement, _ bindings: PostgresWireBindings, allocator: ByteBufferAllocator) -> ByteBuffer {
        var bytes = allocator.buffer(capacity: 32 + bindings.values.readableBytes + statement.name.utf8.count)
        PostgresWireFrontend.writeBind(into: &bytes, statement: statement.name, parameters: bindings)
        PostgresWireFrontend.writeExecuteAndSync(into: &bytes)
        return bytes
    }

    /// Hands `request` to the handler on the event loop. As in SessionKitRedis's RedisConnection:
    /// there, an active channel still has its handler, which answers the request; an inactive
    /// channel's handler may be gone, so the request fails here, as never sent.
    private func enqueue(_ request: PostgresWireRequest) {
        let channel = self.channel
        let handler = self.handler
        @Sendable func write() {
            guard channel.isActive else {
                request.waiter.fail(PostgresWireError(.notSent, "cannot send to PostgreSQL: the connection is closed"))
                return
            }
            handler.value.send(request)
        }
        if channel.eventLoop.inEventLoop { write() } else { channel.eventLoop.execute(write) }
    }

    /// Says goodbye (`Terminate`) and closes; statements waiting fail.
    func close() {
        let channel = self.channel
        channel.eventLoop.execute {
            guard channel.isActive else { return }
            var buffer = channel.allocator.buffer(capacity: 5)
            PostgresWireFrontend.writeTerminate(into: &buffer)
            let terminate = buffer
            // The handler handles inbound bytes only (requests reach it directly): bytes written
            // to the channel pass it on their way to the socket.
            channel.writeAndFlush(terminate).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
