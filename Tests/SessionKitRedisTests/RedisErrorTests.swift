import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SessionKit
import SessionKitRedis
import Testing

/// A server that is not Redis, or a Redis-like one that answers as told: it answers each read with
/// what `reply` makes of the bytes (`nil`: nothing), and closes after it when `close` says so.
final class FakeRedisServer: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 1 }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let reply: @Sendable (ByteBuffer) -> (bytes: ByteBuffer?, close: Bool)

        init(reply: @escaping @Sendable (ByteBuffer) -> (bytes: ByteBuffer?, close: Bool)) {
            self.reply = reply
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let (bytes, close) = reply(unwrapInboundIn(data))
            if let bytes { context.writeAndFlush(wrapOutboundOut(bytes), promise: nil) }
            if close { context.close(promise: nil) }
        }
    }

    init(reply: @escaping @Sendable (ByteBuffer) -> (bytes: ByteBuffer?, close: Bool)) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(reply: reply))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// The same behind TLS with `certificate` and `key` (PEM files).
    init(certificate: String, key: String, reply: @escaping @Sendable (ByteBuffer) -> (bytes: ByteBuffer?, close: Bool)) async throws {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        )
        let context = try NIOSSLContext(configuration: configuration)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.addHandler(Handler(reply: reply))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// A server that answers every read with `text` (and closes after it when `close`).
    convenience init(answering text: String, close: Bool = false) async throws {
        try await self.init { _ in (ByteBuffer(string: text), close) }
    }

    func close() async throws {
        try await channel.close()
    }
}

/// Connection failures each say what is wrong, as a kind of ``RedisClientError`` and as the
/// ``SessionStoreError`` message the store throws, and never show the password: a wrong password
/// or ACL user (WRONGPASS), a server that wants a password (NOAUTH), a database that does not
/// exist, a server that is not Redis, and one that echoes what it was sent.
@Suite("Redis connection errors")
struct RedisErrorTests {
    static let secret = "pa55-word-never-shown"

    static func connectError(_ options: RedisConnection.Options) async -> RedisClientError? {
        do {
            let connection = try await RedisConnection.connect(to: options).get()
            connection.close()
            return nil
        } catch let error as RedisClientError {
            return error
        } catch {
            Issue.record("not a RedisClientError: \(error)")
            return nil
        }
    }

    static func options(port: Int, username: String? = nil, password: String? = secret, database: Int = 0) -> RedisConnection.Options {
        RedisConnection.Options(
            host: "127.0.0.1", port: port, username: username, password: password, database: database,
            connectTimeout: .seconds(10), commandTimeout: .seconds(10), clientName: "sktest"
        )
    }

    /// The message a store on `port` throws, checked to be `unavailable` and free of the password.
    static func storeMessage(port: Int, username: String? = nil, password: String? = secret, database: Int = 0) async throws -> String {
        let store = RedisSessionStore(configuration: .init(
            port: port, database: database, password: password, keyPrefix: "sktest", username: username,
            connectTimeout: .seconds(10), commandTimeout: .seconds(10)
        ))
        defer { store.close() }
        do {
            _ = try await store.load(SessionID().storageKey)
            Issue.record("load must fail")
            return ""
        } catch let error as SessionStoreError {
            #expect(error.code == .unavailable)
            #expect(!error.description.contains(secret) && !"\(error)".contains(secret), "\(error)")
            return error.message
        }
    }

    // MARK: Against the real server

    @Test(RedisTestServer.enabled) func anACLUserAuthenticatesAndAWrongPasswordIsRejected() async throws {
        let admin = try await RedisTestServer.connection()
        defer { admin.close() }
        let user = "sktest-\(UUID().uuidString.prefix(8))"
        #expect(try await admin.send(RedisCommand("ACL", "SETUSER", user, "reset", "on", ">\(Self.secret)", "~*", "&*", "+@all")) == .simpleString("OK"))
        do {
            let port = try RedisTestServer.configuration().port
            // AUTH with two arguments: the user and its password, from a URL.
            let encoded = Self.secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            var configuration = try RedisSessionStoreConfiguration(url: "redis://\(user):\(encoded)@127.0.0.1:\(port)/0", keyPrefix: "sktest:\(UUID().uuidString)")
            configuration.clientName = user
            #expect(configuration.username == user && configuration.password == Self.secret)
            let store = RedisSessionStore(configuration: configuration)
            defer { store.close() }
            try await store.ping()
            let key = SessionID().storageKey
            let now = SessionClock.system()
            try await store.create(key, StoredSession(values: [:], createdAt: now, expiresAt: now + 60, absoluteExpiresAt: now + 60))
            #expect(try await store.load(key) != nil)
            try await store.delete(key)
            let list = try await admin.send(RedisCommand("CLIENT", "LIST")).string ?? ""
            #expect(list.split(separator: "\n").contains { $0.contains(" name=\(user) ") && $0.contains(" user=\(user) ") })

            // A wrong password for the user: WRONGPASS, said plainly.
            let wrong = try #require(await Self.connectError(Self.options(port: port, username: user, password: "not-the-\(Self.secret)")))
            #expect(wrong.kind == .authenticationFailed)
            #expect(wrong.message.contains("rejected the password for user '\(user)'") && wrong.message.contains("WRONGPASS"), "\(wrong.message)")
            #expect(!wrong.message.contains(Self.secret))
            let message = try await Self.storeMessage(port: port, username: user, password: "not-the-\(Self.secret)")
            #expect(message.contains("WRONGPASS"), "\(message)")
            // An unknown user: the same answer (Redis does not say which was wrong).
            let unknown = try #require(await Self.connectError(Self.options(port: port, username: "\(user)-nobody")))
            #expect(unknown.kind == .authenticationFailed && unknown.message.contains("WRONGPASS"))
            // A password for the default user, which has none on the test server.
            let noPassword = try #require(await Self.connectError(Self.options(port: port)))
            #expect(noPassword.kind == .authenticationFailed && !noPassword.message.contains(Self.secret), "\(noPassword.message)")
        } catch {
            _ = try? await admin.send(RedisCommand("ACL", "DELUSER", user))
            throw error
        }
        _ = try await admin.send(RedisCommand("ACL", "DELUSER", user))
    }

    @Test(RedisTestServer.enabled) func aDatabaseOutOfRangeIsNamed() async throws {
        let port = try RedisTestServer.configuration().port
        let error = try #require(await Self.connectError(Self.options(port: port, password: nil, database: 99)))
        #expect(error.kind == .databaseUnavailable)
        #expect(error.message.contains("has no database 99") && error.message.contains("out of range"), "\(error.message)")
        let message = try await Self.storeMessage(port: port, password: nil, database: 99)
        #expect(message.contains("has no database 99"), "\(message)")
        // The last one there is fine.
        #expect(await Self.connectError(Self.options(port: port, password: nil, database: 15)) == nil)
    }

    // MARK: Against fake servers

    @Test func noauthSaysAPasswordIsNeeded() async throws {
        let server = try await FakeRedisServer(answering: "-NOAUTH Authentication required.\r\n")
        defer { Task { try? await server.close() } }
        let error = try #require(await Self.connectError(Self.options(port: server.port, password: nil)))
        #expect(error.kind == .authenticationFailed)
        #expect(error.message.contains("requires a password (NOAUTH)"), "\(error.message)")
        // The first command without a password or a client name is a PING: the same answer.
        var bare = Self.options(port: server.port, password: nil)
        bare.clientName = nil
        #expect(await Self.connectError(bare)?.kind == .authenticationFailed)
        let message = try await Self.storeMessage(port: server.port, password: nil)
        #expect(message.contains("NOAUTH"), "\(message)")
    }

    @Test func aServerEchoingThePasswordHasItCutOut() async throws {
        // Something posing as Redis that puts the password in its error message.
        let server = try await FakeRedisServer(answering: "-WRONGPASS no such pair (\(Self.secret)) here\r\n")
        defer { Task { try? await server.close() } }
        let error = try #require(await Self.connectError(Self.options(port: server.port)))
        #expect(error.kind == .authenticationFailed && !error.message.contains(Self.secret), "\(error.message)")
        let other = try await FakeRedisServer(answering: "-ERR the password \(Self.secret) is odd\r\n")
        defer { Task { try? await other.close() } }
        let refused = try #require(await Self.connectError(Self.options(port: other.port)))
        #expect(refused.kind == .authenticationFailed)
        #expect(refused.message.contains("[password]") && !refused.message.contains(Self.secret), "\(refused.message)")
        _ = try await Self.storeMessage(port: other.port)
    }

    @Test func anEchoServerIsNotRedis() async throws {
        // It sends the AUTH command back: valid RESP, an array holding the password. Never shown.
        let server = try await FakeRedisServer { bytes in (bytes, false) }
        defer { Task { try? await server.close() } }
        let error = try #require(await Self.connectError(Self.options(port: server.port)))
        #expect(error.kind == .notRedis)
        #expect(error.message.contains("is it a Redis server?") && !error.message.contains(Self.secret), "\(error.message)")
        _ = try await Self.storeMessage(port: server.port)
    }

    @Test(arguments: [
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        "SSH-2.0-OpenSSH_9.6\r\n",
        "\u{0}\u{1}garbage",
    ])
    func aServerThatIsNotRedisIsNamed(_ answer: String) async throws {
        let server = try await FakeRedisServer(answering: answer)
        defer { Task { try? await server.close() } }
        let error = try #require(await Self.connectError(Self.options(port: server.port)))
        #expect(error.kind == .notRedis)
        #expect(error.message.contains("127.0.0.1:\(server.port) does not speak the Redis protocol"), "\(error.message)")
        let message = try await Self.storeMessage(port: server.port)
        #expect(message.contains("does not speak the Redis protocol"), "\(message)")
    }

    @Test func aTLSAnswerToPlainTextSaysUseRediss() async throws {
        // A TLS server's alert record (fatal, protocol_version), as some answer plain text.
        let server = try await FakeRedisServer { _ in (ByteBuffer(bytes: [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]), true) }
        defer { Task { try? await server.close() } }
        let error = try #require(await Self.connectError(Self.options(port: server.port)))
        #expect(error.kind == .notRedis)
        #expect(error.message.contains("answered with TLS") && error.message.contains("rediss://"), "\(error.message)")
    }

    @Test func aServerThatClosesAtOnceIsUnavailable() async throws {
        let server = try await FakeRedisServer { _ in (nil, true) }
        defer { Task { try? await server.close() } }
        let error = try #require(await Self.connectError(Self.options(port: server.port)))
        #expect(error.kind == .connectFailed)
        #expect(error.message.contains("closed the connection without answering") && !error.message.contains(Self.secret), "\(error.message)")
    }

    @Test func aBrokenReplyAfterGoodOnesIsAProtocolError() async throws {
        // PING answered, then garbage: the stream broke, the server is Redis enough.
        let server = try await FakeRedisServer { bytes in
            let text = String(buffer: bytes)
            return (ByteBuffer(string: text.contains("PING") ? "+PONG\r\n" : "!what\r\n"), false)
        }
        defer { Task { try? await server.close() } }
        var options = Self.options(port: server.port, password: nil)
        options.clientName = nil
        let connection = try await RedisConnection.connect(to: options).get()
        defer { connection.close() }
        do {
            _ = try await connection.send(RedisCommand("GET", "x"))
            Issue.record("the reply is not RESP")
        } catch let error as RedisClientError {
            #expect(error.kind == .protocolError)
            #expect(error.message.contains("sent an invalid reply"), "\(error.message)")
        }
    }

    /// Opens a connection (no password, no client name) to `server`, with `timeout` for commands.
    static func plainConnection(to server: FakeRedisServer, timeout: TimeAmount = .seconds(5)) async throws -> RedisConnection {
        var options = Self.options(port: server.port, password: nil)
        options.clientName = nil
        options.commandTimeout = timeout
        return try await RedisConnection.connect(to: options).get()
    }

    @Test func tasksWaitingForRepliesGetTheTimeout() async throws {
        // The async send waits on the task's continuation: the handler resumes each exactly once,
        // here with the timeout, and a command after it fails (the connection is given up).
        let server = try await FakeRedisServer { bytes in
            (String(buffer: bytes).contains("PING") ? ByteBuffer(string: "+PONG\r\n") : nil, false)
        }
        defer { Task { try? await server.close() } }
        let connection = try await Self.plainConnection(to: server, timeout: .milliseconds(200))
        defer { connection.close() }
        let kinds = await Self.failureKinds(of: connection, commands: 3)
        #expect(kinds == [.timeout, .timeout, .timeout])
        await #expect(throws: RedisClientError.self) { _ = try await connection.send(RedisCommand("GET", "late")) }
    }

    @Test func tasksWaitingForRepliesGetTheClose() async throws {
        // The server closes when the GETs arrive: every task waiting fails with the close.
        let server = try await FakeRedisServer { bytes in
            String(buffer: bytes).contains("PING") ? (ByteBuffer(string: "+PONG\r\n"), false) : (nil, true)
        }
        defer { Task { try? await server.close() } }
        let connection = try await Self.plainConnection(to: server)
        defer { connection.close() }
        #expect(await Self.failureKinds(of: connection, commands: 2) == [.connectionClosed, .connectionClosed])
    }

    /// Sends `commands` GETs at once from as many tasks; the kind of error each got (`nil`: none).
    static func failureKinds(of connection: RedisConnection, commands: Int) async -> [RedisClientError.Kind?] {
        await withTaskGroup(of: RedisClientError.Kind?.self) { group in
            for index in 0..<commands {
                group.addTask {
                    do {
                        _ = try await connection.send(RedisCommand("GET", "k\(index)"))
                        return nil
                    } catch {
                        return (error as? RedisClientError)?.kind
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    // MARK: URLs

    @Test func parsesTLSURLs() throws {
        let plain = try RedisSessionStoreConfiguration(url: "redis://127.0.0.1:6379/0")
        #expect(plain.tls == nil)
        let verified = try RedisSessionStoreConfiguration(url: "rediss://u:p@redis.internal:6380/2")
        #expect(verified.tls == RedisTLS() && verified.tls?.verifyServer == true && verified.port == 6380 && verified.database == 2)
        #expect(verified.username == "u" && verified.password == "p")
        let withCA = try RedisSessionStoreConfiguration(url: "rediss://redis.internal?ca=/etc/redis/ca%20file.pem&servername=cache.internal")
        #expect(withCA.tls == RedisTLS(caFile: "/etc/redis/ca file.pem", serverName: "cache.internal") && withCA.host == "redis.internal")
        let unverified = try RedisSessionStoreConfiguration(url: "rediss://:secret@127.0.0.1:6380/0?verify=none")
        #expect(unverified.tls == .unverified && unverified.password == "secret")
        #expect(try RedisSessionStoreConfiguration(url: "rediss://h?verify=full&ca=/x").tls == RedisTLS(caFile: "/x"))
        for bad in ["redis://h?ca=/x", "redis://h?verify=none", "rediss://h?verify=maybe", "rediss://h?ca=", "rediss://h?cafile=/x", "redisss://h"] {
            #expect(throws: SessionStoreError.self, "\(bad)") { _ = try RedisSessionStoreConfiguration(url: bad) }
        }
        do {
            _ = try RedisSessionStoreConfiguration(url: "rediss://:topsecret@h?verify=nope")
            Issue.record("verify=nope must fail")
        } catch let error as SessionStoreError {
            #expect(error.message.contains("verify must be full or none") && !error.message.contains("topsecret"))
        }
        var configuration = RedisSessionStoreConfiguration(host: "redis.internal")
        configuration.tls = RedisTLS(caFile: "/etc/redis/ca.pem")
        #expect(configuration.tls?.verifyServer == true)
    }
}
