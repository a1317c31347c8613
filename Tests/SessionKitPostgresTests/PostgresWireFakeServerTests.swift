import Foundation
import NIOCore
import NIOSSL
@testable import SessionKitPostgres
import SessionKitTesting
import Testing

/// ``PostgresWireConnection`` against servers on the loopback that misbehave (no PostgreSQL
/// needed): one that accepts and never answers, one that completes the start-up and then never
/// answers a statement, one that speaks HTTP, and one that sends bytes after its `S` to the
/// SSLRequest (CVE-2021-23222). Each failure comes within its timeout, as the kind it should be,
/// saying what happened.
@Suite("PostgresWireConnection against fake servers")
struct PostgresWireFakeServerTests {
    static func clientTLS() throws -> NIOSSLContext {
        try NIOSSLContext(configuration: .makeClientConfiguration())
    }

    enum Transport: String, CaseIterable, CustomTestStringConvertible {
        case plain, requireTLS
        var testDescription: String { rawValue }
        func tls() throws -> PostgresWireConnection.Options.TLS {
            self == .plain ? .disable : .require(try PostgresWireFakeServerTests.clientTLS())
        }
    }

    static func connectError(_ options: PostgresWireConnection.Options) async -> PostgresWireError? {
        do {
            let connection = try await PostgresWireConnection.connect(to: options).get()
            connection.close()
            Issue.record("connected to a fake server")
            return nil
        } catch let error as PostgresWireError {
            return error
        } catch {
            Issue.record("not a PostgresWireError: \(error)")
            return nil
        }
    }

    /// The start-up (or the SSLRequest before it) gets no answer: the connect timeout ends it.
    @Test(arguments: Transport.allCases)
    func aServerThatNeverAnswersFailsTheConnectWithinItsTimeout(_ transport: Transport) async throws {
        let server = try await FakePostgresServer { _, _ in nil }
        defer { Task { await server.close() } }
        let options = server.options(tls: try transport.tls(), connectTimeout: .milliseconds(300))
        let start = ContinuousClock.now
        let error = try #require(await Self.connectError(options))
        let elapsed = ContinuousClock.now - start
        #expect(error.kind == .connectFailed, "\(error.kind): \(error.message)")
        #expect(error.message.contains("did not complete the start-up within 300 ms"), "unclear: \(error.message)")
        #expect(error.message.contains("127.0.0.1:\(server.port)"), "names no server: \(error.message)")
        #expect(elapsed >= .milliseconds(250), "failed before its timeout: \(elapsed)")
        #expect(elapsed < TestTimeScale.limit(.seconds(10)), "took \(elapsed) for a 300 ms timeout")
        #expect(server.acceptedCount == 1)
    }

    /// The start-up completes (`AuthenticationOk`, `ReadyForQuery`), then a statement gets no
    /// answer: it fails with `.timeout` after the reply timeout, and the connection is given up
    /// (a later answer could no longer be matched to its statement).
    /// Over TLS too, where closing waits for the server's `close_notify`, which a hung server never
    /// sends (this one stops reading once it has the statement).
    @Test(arguments: ["disable", "require"])
    func aStatementWithoutAnAnswerTimesOutAndEndsTheConnection(sslmode: String) async throws {
        let serverTLS = sslmode == "disable" ? nil : try FakePostgresServer.makeTLS()
        let server = try await FakePostgresServer(tls: serverTLS) { index, _ in index == 0 ? .bytes(FakePostgresServer.startupDone) : .stopReading }
        defer { Task { await server.close() } }
        var clientTLS = TLSConfiguration.makeClientConfiguration()
        clientTLS.certificateVerification = .none
        let tls: PostgresWireConnection.Options.TLS = sslmode == "disable" ? .disable : .require(try NIOSSLContext(configuration: clientTLS))
        let connection = try await PostgresWireConnection.connect(
            to: server.options(tls: tls, connectTimeout: .seconds(5), replyTimeout: .milliseconds(300))
        ).get()
        defer { connection.close() }
        #expect(connection.isActive)
        let start = ContinuousClock.now
        let error = await #expect(throws: PostgresWireError.self) {
            _ = try await connection.run(WireTest.sql("SELECT 1"), .init()).get()
        }
        let elapsed = ContinuousClock.now - start
        #expect(error?.kind == .timeout, "\(String(describing: error?.kind)): \(error?.message ?? "")")
        #expect(error?.message.contains("did not answer within 300 ms") == true, "unclear: \(error?.message ?? "")")
        #expect(elapsed >= .milliseconds(250), "timed out before its timeout: \(elapsed)")
        #expect(elapsed < TestTimeScale.limit(.seconds(10)), "took \(elapsed) for a 300 ms timeout")
        // Given up by the time its statement fails, so a pool never hands it out again.
        #expect(!connection.isActive, "the connection is still active after a reply timeout")
        // The next statement is not sent (safe to send elsewhere).
        let next = await #expect(throws: PostgresWireError.self) { _ = try await connection.run(WireTest.sql("SELECT 1"), .init()).get() }
        #expect(next?.kind == .notSent)
    }

    /// A pool of one connection whose statement timed out sends the next statement on a new
    /// connection at once (which this server answers no better: it times out too), instead of
    /// handing out the connection that failed (over TLS it used to, until NIOSSL's 5 s shutdown
    /// timeout closed the channel, and the statement failed as not sent, twice with the retry).
    @Test(arguments: ["disable", "require"])
    func aPoolReplacesAConnectionThatTimedOut(sslmode: String) async throws {
        let serverTLS = sslmode == "disable" ? nil : try FakePostgresServer.makeTLS()
        let server = try await FakePostgresServer(tls: serverTLS) { index, _ in index == 0 ? .bytes(FakePostgresServer.startupDone) : .stopReading }
        defer { Task { await server.close() } }
        var clientTLS = TLSConfiguration.makeClientConfiguration()
        clientTLS.certificateVerification = .none
        let tls: PostgresWireConnection.Options.TLS = sslmode == "disable" ? .disable : .require(try NIOSSLContext(configuration: clientTLS))
        let pool = PostgresWirePool(options: server.options(tls: tls, connectTimeout: .seconds(5), replyTimeout: .milliseconds(300)), size: 1)
        defer { pool.close() }
        for attempt in 1...2 {
            let error = await #expect(throws: PostgresWireError.self) { _ = try await pool.run(WireTest.sql("SELECT 1"), .init()) }
            #expect(error?.kind == .timeout, "statement \(attempt): \(String(describing: error?.kind)): \(error?.message ?? "")")
        }
        #expect(server.acceptedCount == 2)
    }

    /// A dump of a connected pool, or of its connection, reaches the handler's start-up settings
    /// through the channel's pipeline: they show `********` for the password.
    @Test func dumpsOfAConnectedPoolNeverShowThePassword() async throws {
        let server = try await FakePostgresServer { index, _ in index == 0 ? FakePostgresServer.startupDone : nil }
        defer { Task { await server.close() } }
        let secret = "wire-secret-\(UUID())"
        var options = server.options(connectTimeout: .seconds(20))
        options.password = secret
        let pool = PostgresWirePool(options: options, size: 1)
        defer { pool.close() }
        let connection = try await pool.connection()
        var dumpedPool = ""
        dump(pool, to: &dumpedPool)
        var dumpedConnection = ""
        dump(connection, to: &dumpedConnection)
        for shown in [dumpedPool, dumpedConnection] {
            #expect(!shown.contains(secret), "shows the password")
            #expect(shown.contains("********"))
        }
    }

    /// An HTTP server answers the start-up (or the SSLRequest) with a 400: the connection fails at
    /// once, asking whether it is a PostgreSQL server.
    @Test(arguments: ["disable", "prefer"])
    func anHTTPServerIsNotTakenForPostgreSQL(sslmode: String) async throws {
        let server = try await FakePostgresServer { _, _ in Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8) }
        defer { Task { await server.close() } }
        let tls: PostgresWireConnection.Options.TLS = sslmode == "disable" ? .disable : .prefer(try Self.clientTLS())
        let start = ContinuousClock.now
        let error = try #require(await Self.connectError(server.options(tls: tls, connectTimeout: .seconds(20))))
        #expect(ContinuousClock.now - start < TestTimeScale.limit(.seconds(15)), "must fail on the answer, not on the connect timeout")
        #expect(error.kind == .protocolError || error.kind == .connectFailed, "\(error.kind): \(error.message)")
        #expect(error.message.contains("is it a PostgreSQL server?"), "unclear: \(error.message)")
    }

    /// A server (or a man in the middle) that answers the SSLRequest with `S` and more bytes before
    /// the handshake: those bytes would be read as if they had come over TLS (CVE-2021-23222).
    @Test(arguments: ["prefer", "require"])
    func bytesAfterTheSSLRequestsAnswerFailTheConnection(sslmode: String) async throws {
        let injected = [UInt8(ascii: "S")] + FakePostgresServer.startupDone
        let server = try await FakePostgresServer { index, _ in index == 0 ? injected : nil }
        defer { Task { await server.close() } }
        let context = try Self.clientTLS()
        let tls: PostgresWireConnection.Options.TLS = sslmode == "prefer" ? .prefer(context) : .require(context)
        let start = ContinuousClock.now
        let error = try #require(await Self.connectError(server.options(tls: tls, connectTimeout: .seconds(20))))
        #expect(ContinuousClock.now - start < TestTimeScale.limit(.seconds(15)), "must fail on the answer, not on the connect timeout")
        #expect(error.kind == .tlsFailed, "\(error.kind): \(error.message)")
        #expect(error.message.contains("CVE-2021-23222"), "unclear: \(error.message)")
    }

    /// A server without TLS (it answers the SSLRequest with `N`) fails a connection that requires
    /// TLS; `sslmode=prefer` goes on in plain text, through the start-up, at once (it used to wait
    /// out its connect timeout: the `PlainText` event that starts the start-up went nowhere).
    @Test func aServerWithoutTLSFailsRequireAndServesPrefer() async throws {
        let server = try await FakePostgresServer { index, _ in
            switch index {
            case 0: [UInt8(ascii: "N")]
            case 1: FakePostgresServer.startupDone
            default: nil
            }
        }
        defer { Task { await server.close() } }
        let required = try #require(await Self.connectError(server.options(tls: .require(try Self.clientTLS()), connectTimeout: .seconds(20))))
        #expect(required.kind == .tlsFailed)
        #expect(required.message.contains("does not accept TLS"), "unclear: \(required.message)")
        // With the bug, this waited out its connect timeout and failed.
        let connection = try await PostgresWireConnection.connect(to: server.options(tls: .prefer(try Self.clientTLS()), connectTimeout: .seconds(20))).get()
        #expect(connection.isActive)
        connection.close()
    }
}
