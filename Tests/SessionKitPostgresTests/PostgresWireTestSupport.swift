import Foundation
import NIOCore
import NIOPosix
import NIOSSL
@testable import SessionKitPostgres
import SessionKitTesting
import Synchronization
import Testing

/// What the tests of SessionKit's own PostgreSQL connections (``PostgresWireConnection``) share:
/// options for the test server of `SESSIONKIT_POSTGRES_URL` (plain text, trust, as the test role),
/// one-off statements, and reading the first column of a result.
///
/// ```swift
/// let connection = try await WireTest.connect(applicationName: "sessionkit_wire_x")
/// defer { connection.close() }
/// #expect(try await connection.run(WireTest.sql("SELECT 2::int8"), .init()).get().int64() == 2)
/// ```
enum WireTest {
    /// Options for the test server in plain text, as its role unless `user` is given; no password
    /// unless one is (`PGPASSWORD` is not read).
    static func options(
        user: String? = nil, password: String? = nil, applicationName: String? = nil,
        replyTimeout: TimeAmount? = nil
    ) throws -> PostgresWireConnection.Options {
        guard let base = PostgresTestDatabase.url else { throw WireTestError("SESSIONKIT_POSTGRES_URL is not set") }
        let url = try PostgresConnectionURL(base.contains("?") ? base : base + "?sslmode=disable", environment: [:])
        var options = try url.makeWireOptions(connectionTimeout: TestTimeScale.limit(.seconds(30)))
        if let user { options.username = user }
        options.password = password
        if let applicationName { options.parameters.append(("application_name", applicationName)) }
        if let replyTimeout { options.replyTimeout = replyTimeout }
        return options
    }

    /// A connection to the test server (see ``options(user:password:applicationName:replyTimeout:)``).
    static func connect(
        user: String? = nil, password: String? = nil, applicationName: String? = nil
    ) async throws -> PostgresWireConnection {
        try await PostgresWireConnection.connect(to: options(user: user, password: password, applicationName: applicationName)).get()
    }

    /// An unnamed statement (parsed with each run) without parameters.
    static func sql(_ text: String) -> PostgresWireStatement {
        PostgresWireStatement(name: "", sql: text, parameterTypes: [])
    }

    /// A unique lower-case name with `prefix`, for a schema, a statement or an `application_name`.
    static func uniqueName(_ prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    }

    /// The bindings of one `int8`.
    static func int8(_ value: Int64) -> PostgresWireBindings {
        var bindings = PostgresWireBindings()
        bindings.append(value)
        return bindings
    }

    /// The bindings of one `text`.
    static func text(_ value: String) -> PostgresWireBindings {
        var bindings = PostgresWireBindings()
        bindings.append(value)
        return bindings
    }

    /// The `application_name`s' connections the server has, as `pg_stat_activity` shows them:
    /// their pids and their last statements.
    static func activity(applicationName: String, on connection: PostgresWireConnection) async throws -> [(pid: Int64, query: String)] {
        let result = try await connection.run(
            PostgresWireStatement(
                name: "", sql: "SELECT pid::int8, query FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid", parameterTypes: [.text]
            ),
            text(applicationName)
        ).get()
        return try result.rows.map { body in
            var row = try PostgresWireRow(body)
            return (try row.int64(), try row.text() ?? "")
        }
    }
}

struct WireTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension PostgresWireResult {
    /// The first row's first column as an `int8`.
    func int64() throws -> Int64 {
        guard let first = rows.first else { throw WireTestError("no row") }
        var row = try PostgresWireRow(first)
        return try row.int64()
    }

    /// The first row's first column as a `bool`.
    func bool() throws -> Bool {
        guard let first = rows.first else { throw WireTestError("no row") }
        var row = try PostgresWireRow(first)
        guard let column = try row.column(), column.readableBytes == 1, let byte = column.getInteger(at: column.readerIndex, as: UInt8.self) else {
            throw WireTestError("not a bool")
        }
        return byte != 0
    }

    /// The first row's first column as a `text`.
    func text() throws -> String? {
        guard let first = rows.first else { throw WireTestError("no row") }
        var row = try PostgresWireRow(first)
        return try row.text()
    }

    /// The first row's first column's bytes (a `bytea`).
    func bytes() throws -> [UInt8] {
        guard let first = rows.first else { throw WireTestError("no row") }
        var row = try PostgresWireRow(first)
        return Array(try row.bytes().readableBytesView)
    }
}

/// A server on 127.0.0.1 that is not PostgreSQL, or only pretends to be: it answers the `index`th
/// read (from 0) of each connection with what `reply` makes of it (`nil`: nothing), after a TLS
/// handshake when made with a TLS context. ``close()`` closes it and every connection it accepted.
///
/// ```swift
/// let server = try await FakePostgresServer { _, _ in nil }   // accepts, never answers
/// defer { Task { await server.close() } }
/// ```
final class FakePostgresServer: Sendable {
    let channel: any Channel
    private let accepted: Accepted
    var port: Int { channel.localAddress?.port ?? 1 }

    private final class Accepted: Sendable {
        let channels = Mutex<[any Channel]>([])
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let reply: @Sendable (_ index: Int, _ bytes: ByteBuffer) -> Answer
        private var reads = 0

        init(reply: @escaping @Sendable (Int, ByteBuffer) -> Answer) {
            self.reply = reply
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let index = reads
            reads += 1
            switch reply(index, unwrapInboundIn(data)) {
            case .bytes(let bytes):
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            case .nothing:
                break
            case .stopReading:
                context.channel.setOption(.autoRead, value: false).whenFailure { _ in }
            }
        }
    }

    /// A fake server's answer to one read.
    enum Answer: ExpressibleByArrayLiteral, ExpressibleByNilLiteral {
        case bytes([UInt8])
        case nothing
        /// Reads no more from that connection, as a server that hangs (for TLS: not even a `close_notify`).
        case stopReading

        init(arrayLiteral elements: UInt8...) { self = .bytes(elements) }
        init(nilLiteral: ()) { self = .nothing }
    }

    /// Answers the SSLRequest with `S`, then the TLS handshake with `tls`'s certificate, before the reads `reply` answers.
    private final class AcceptTLS: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let context: NIOSSLContext

        init(context: NIOSSLContext) {
            self.context = context
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: [UInt8(ascii: "S")])), promise: nil)
            do {
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: self.context), position: .first)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            } catch {
                context.close(promise: nil)
            }
        }
    }

    convenience init(reply: @escaping @Sendable (_ index: Int, _ bytes: ByteBuffer) -> [UInt8]?) async throws {
        try await self.init(tls: nil) { index, bytes in reply(index, bytes).map { .bytes($0) } ?? .nothing }
    }

    /// With `tls`, the server accepts TLS (`S` to the SSLRequest, then the handshake) before `reply` sees any read.
    init(tls: NIOSSLContext?, reply: @escaping @Sendable (_ index: Int, _ bytes: ByteBuffer) -> Answer) async throws {
        let accepted = Accepted()
        self.accepted = accepted
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                accepted.channels.withLock { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(AcceptTLS(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(Handler(reply: reply))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// A TLS context for a fake server: a throwaway self-signed certificate for localhost, made with openssl.
    static func makeTLS() throws -> NIOSSLContext {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-wire-fake-tls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("server.pem").path
        let key = directory.appendingPathComponent("server.key").path
        try PostgresConnectionURLServerTests.run("openssl", [
            "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-sha256", "-days", "1",
            "-subj", "/CN=localhost", "-keyout", key, "-out", certificate,
        ])
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        )
        return try NIOSSLContext(configuration: configuration)
    }

    /// How many connections it accepted.
    var acceptedCount: Int { accepted.channels.withLock { $0.count } }

    func close() async {
        try? await channel.close()
        for child in accepted.channels.withLock({ $0 }) { try? await child.close() }
    }

    /// `AuthenticationOk` (`R`, 0) and `ReadyForQuery` (`Z`, idle): a start-up that asks nothing.
    static let startupDone: [UInt8] = [UInt8(ascii: "R"), 0, 0, 0, 8, 0, 0, 0, 0, UInt8(ascii: "Z"), 0, 0, 0, 5, UInt8(ascii: "I")]

    /// Options for a connection to this server, with short timeouts.
    func options(tls: PostgresWireConnection.Options.TLS = .disable, connectTimeout: TimeAmount, replyTimeout: TimeAmount = .seconds(5)) -> PostgresWireConnection.Options {
        PostgresWireConnection.Options(
            host: "127.0.0.1", port: port, username: "sessionkit", password: nil, database: "sessionkit", tls: tls,
            parameters: [], connectTimeout: connectTimeout, replyTimeout: replyTimeout
        )
    }
}
