import NIOCore
import NIOPosix

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

        package init(
            host: String, port: Int, username: String? = nil, password: String? = nil, database: Int = 0,
            connectTimeout: TimeAmount = .seconds(5), commandTimeout: TimeAmount = .seconds(5), clientName: String? = nil
        ) {
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

    init(channel: any Channel, commandTimeout: TimeAmount) {
        self.channel = channel
        self.commandTimeout = commandTimeout
    }

    /// Whether the connection can still carry commands.
    package var isActive: Bool { channel.isActive }

    /// Opens a connection, then authenticates (`AUTH`), selects the database (`SELECT`) and names
    /// the client (`CLIENT SETNAME`) as `options` ask. Fails with ``RedisClientError/Kind/connectFailed``.
    package static func connect(
        to options: RedisConnection.Options, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) -> EventLoopFuture<RedisConnection> {
        let address = "\(options.host):\(options.port)"
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(options.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(RESPDecoder(parser: RESPParser()), maximumBufferSize: 1 << 30),
                        RedisResponseHandler()
                    )
                }
            }
        let connected = bootstrap.connect(host: options.host, port: options.port).map { channel in
            RedisConnection(channel: channel, commandTimeout: options.commandTimeout)
        }
        let handshake = connected.flatMap { connection -> EventLoopFuture<RedisConnection> in
            var setup: [(RedisCommand, String)] = []
            if let password = options.password {
                var auth = RedisCommand("AUTH")
                if let username = options.username { auth.append(username) }
                auth.append(password)
                setup.append((auth, "AUTH"))
            }
            if options.database != 0 { setup.append((RedisCommand("SELECT", String(options.database)), "SELECT")) }
            if let name = options.clientName { setup.append((RedisCommand("CLIENT", "SETNAME", name), "CLIENT SETNAME")) }
            var future = connection.channel.eventLoop.makeSucceededVoidFuture()
            for (command, name) in setup {
                future = future.flatMap {
                    connection.send(command).flatMapThrowing { reply in
                        if case .error(let message) = reply {
                            // The server's message names the problem (WRONGPASS, NOAUTH, ...), never the password.
                            throw RedisClientError(.connectFailed, "Redis at \(address) refused \(name): \(message)")
                        }
                    }
                }
            }
            return future.map { connection }.flatMapErrorThrowing { error in
                connection.close()
                throw error
            }
        }
        return handshake.flatMapErrorThrowing { error in
            if let error = error as? RedisClientError, error.kind == .connectFailed { throw error }
            throw RedisClientError(.connectFailed, "cannot connect to Redis at \(address): \(error)")
        }
    }

    /// Sends `command` and completes with its reply (an error reply is a value, ``RESPValue/error(_:)``).
    /// The handler times the reply out (one timer per connection, see ``RedisResponseHandler``), so
    /// sending is one hand-over to the channel's event loop.
    package func send(_ command: RedisCommand) -> EventLoopFuture<RESPValue> {
        let channel = self.channel
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        let request = RedisRequest(bytes: command.encoded(allocator: channel.allocator), promise: promise, timeout: commandTimeout)
        // On the event loop, the write and its failure callback need no further hand-over.
        @Sendable func write() {
            let written = channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenFailure { error in
                // Never reached the handler (the channel had closed): fail the command here.
                promise.fail(RedisClientError(.connectionClosed, "cannot send to Redis: \(error)"))
            }
            channel.writeAndFlush(request, promise: written)
        }
        if channel.eventLoop.inEventLoop { write() } else { channel.eventLoop.execute(write) }
        return promise.futureResult
    }

    /// Sends `command` and returns its reply.
    package func send(_ command: RedisCommand) async throws -> RESPValue {
        try await send(command).get()
    }

    /// Closes the connection; commands waiting fail.
    package func close() {
        channel.close(promise: nil)
    }
}
