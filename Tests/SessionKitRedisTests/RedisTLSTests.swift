import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SessionKit
import SessionKitRedis
import SessionKitTesting
import Testing

/// The store over TLS against the test server's TLS port (`scripts/redis-server start` makes a
/// throwaway CA and a certificate for 127.0.0.1 and localhost): the whole store contract, server
/// verification against a CA file, host name verification, the development opt-out, and the
/// mistakes (plain text to a TLS port, TLS to a plain port, a CA file that is not there).
@Suite("RedisSessionStore over TLS", RedisTestServer.tlsEnabled)
struct RedisTLSTests {
    /// The `SessionStoreError` that pinging a store made from `configuration` throws, if any.
    static func pingError(_ configuration: RedisSessionStoreConfiguration) async -> SessionStoreError? {
        let store = RedisSessionStore(configuration: configuration)
        defer { store.close() }
        do {
            try await store.ping()
            return nil
        } catch let error as SessionStoreError {
            return error
        } catch {
            Issue.record("not a SessionStoreError: \(error)")
            return nil
        }
    }

    /// The `RedisClientError` that connecting with `options` fails with, if any.
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

    static func options(host: String = "127.0.0.1", port: Int? = nil, password: String? = nil, tls: RedisTLS?) -> RedisConnection.Options {
        RedisConnection.Options(
            host: host, port: port ?? RedisTestServer.ports.tls, password: password,
            connectTimeout: .seconds(10), commandTimeout: .seconds(10), tls: tls
        )
    }

    @Test(arguments: SessionStoreContract.allChecks)
    func contract(_ check: SessionStoreContractCheck) async throws {
        try await RedisTestStores.with(url: RedisTestServer.tlsURL()) { stores in
            let configuration = try RedisTestServer.configuration(url: RedisTestServer.tlsURL())
            #expect(configuration.tls == RedisTLS(caFile: RedisTestServer.tlsCA))
            try await check.run { clock in try stores.make(prefix: "\(stores.prefix):\(UUID().uuidString)", clock: clock) }
        }
    }

    @Test func sessionsWrittenOverTLSAreTheServersSessions() async throws {
        // One server behind two ports: what a TLS store writes, a plain one reads.
        try await RedisTestStores.with(url: RedisTestServer.tlsURL()) { stores in
            let overTLS = try stores.make()
            let key = SessionID().storageKey
            let now = SessionClock.system()
            // An hour: a loaded sanitized run took 126 s, past a 60 s session (2026-12-05).
            try await overTLS.create(key, StoredSession(values: ["n": SessionValue(json: Array("1".utf8))], createdAt: now, expiresAt: now + 3600, absoluteExpiresAt: now + 7200))
            let plain = RedisSessionStore(configuration: try RedisTestServer.configuration(prefix: stores.prefix))
            defer { plain.close() }
            #expect(try await plain.load(key)?.values["n"] == SessionValue(json: Array("1".utf8)))
            // A large reply (1,500 values) comes through TLS records intact.
            var values: [String: SessionValue] = [:]
            for index in 0..<1500 { values["k\(index)"] = SessionValue(json: Array("\"\(String(repeating: "x", count: 100))\"".utf8)) }
            #expect(try await overTLS.apply(.update(set: values, remove: []), to: key, expiresAt: now + 3600))
            #expect(try await overTLS.load(key)?.values.count == 1501)
        }
    }

    @Test func verifiesTheServerAgainstTheGivenCA() async throws {
        let tlsCA = try #require(RedisTestServer.tlsCA), otherCA = try #require(RedisTestServer.otherCA)
        #expect(await Self.connectError(Self.options(tls: RedisTLS(caFile: tlsCA))) == nil)
        // A CA that did not sign the server's certificate.
        let wrongCA = try #require(await Self.connectError(Self.options(tls: RedisTLS(caFile: otherCA))))
        #expect(wrongCA.kind == .tlsFailed)
        #expect(wrongCA.message.contains("is not signed by the CA in \(otherCA)") && wrongCA.message.contains("CERTIFICATE_VERIFY_FAILED"), "\(wrongCA.message)")
        // No CA file: the system's trust roots, which do not know the throwaway CA.
        let defaultRoots = try #require(await Self.connectError(Self.options(tls: RedisTLS())))
        #expect(defaultRoots.kind == .tlsFailed)
        #expect(defaultRoots.message.contains("an authority the system trusts"), "\(defaultRoots.message)")
        // The same through the store's public face, from a URL.
        var configuration = try RedisTestServer.configuration(url: "\(RedisTestServer.tlsURL ?? "")?ca=\(otherCA)")
        configuration.password = "tls-test-secret"
        let error = try #require(await Self.pingError(configuration))
        #expect(error.code == .unavailable)
        #expect(error.message.contains("CERTIFICATE_VERIFY_FAILED") && !error.message.contains("tls-test-secret"), "\(error.message)")
    }

    @Test func verifiesTheHostName() async throws {
        let tlsCA = try #require(RedisTestServer.tlsCA)
        // The real server's certificate names 127.0.0.1 (an IP address SAN) and localhost (a DNS SAN).
        #expect(await Self.connectError(Self.options(host: "localhost", tls: RedisTLS(caFile: tlsCA))) == nil)
        #expect(await Self.connectError(Self.options(tls: RedisTLS(caFile: tlsCA, serverName: "localhost"))) == nil)
        // A Redis stand-in on 127.0.0.1 whose certificate the test CA signed for another name only.
        let directory = URL(fileURLWithPath: tlsCA).deletingLastPathComponent()
        let server = try await FakeRedisServer(
            certificate: directory.appendingPathComponent("other-host.pem").path,
            key: directory.appendingPathComponent("other-host.key").path
        ) { bytes in
            (ByteBuffer(string: String(buffer: bytes).contains("PING") ? "+PONG\r\n" : "+OK\r\n"), false)
        }
        defer { Task { try? await server.close() } }
        let wrongName = try #require(await Self.connectError(Self.options(port: server.port, tls: RedisTLS(caFile: tlsCA))))
        #expect(wrongName.kind == .tlsFailed)
        #expect(wrongName.message.contains("is not for that host name or address"), "\(wrongName.message)")
        let viaStore = try #require(await Self.pingError(try RedisTestServer.configuration(url: "rediss://127.0.0.1:\(server.port)/0?ca=\(tlsCA)")))
        #expect(viaStore.message.contains("is not for that host name or address"), "\(viaStore.message)")
        // The chain is fine: with the name it carries, it connects; so it does unverified.
        #expect(await Self.connectError(Self.options(port: server.port, tls: RedisTLS(caFile: tlsCA, serverName: "redis.other.invalid"))) == nil)
        #expect(await Self.connectError(Self.options(port: server.port, tls: .unverified)) == nil)
    }

    @Test func verifyNoneConnectsToAnyCertificate() async throws {
        let otherCA = try #require(RedisTestServer.otherCA)
        // Development only: no chain check, no name check.
        try await RedisTestStores.with(url: "\(RedisTestServer.tlsURL ?? "")?verify=none") { stores in
            let store = try stores.make()
            #expect(store.configuration.tls == RedisTLS(verifyServer: false))
            try await store.ping()
            let key = SessionID().storageKey
            let now = SessionClock.system()
            try await store.create(key, StoredSession(values: [:], createdAt: now, expiresAt: now + 60, absoluteExpiresAt: now + 60))
            #expect(try await store.load(key) != nil)
        }
        #expect(await Self.connectError(Self.options(tls: RedisTLS(caFile: otherCA, verifyServer: false, serverName: "redis.example.com"))) == nil)
    }

    @Test func plainTextToTheTLSPortIsAClearError() async throws {
        // Redis resets the connection (or closes it) on bytes that are not TLS.
        var configuration = try RedisTestServer.configuration(url: "redis://:plain-secret@127.0.0.1:\(RedisTestServer.ports.tls)/0")
        configuration.connectTimeout = .seconds(10)
        configuration.commandTimeout = .seconds(10)
        let error = try #require(await Self.pingError(configuration))
        #expect(error.code == .unavailable)
        #expect(error.message.contains("use rediss://") && !error.message.contains("plain-secret"), "\(error.message)")
        // Without a password the first command is a PING: the same answer.
        let connect = try #require(await Self.connectError(Self.options(port: RedisTestServer.ports.tls, tls: nil)))
        #expect(connect.kind == .connectFailed)
        #expect(connect.message.contains("use rediss://"), "\(connect.message)")
    }

    @Test func tlsToThePlainPortIsAClearError() async throws {
        // Redis reads the TLS hello as the start of an inline command and waits for its end: the
        // handshake never completes, and the timeout says so.
        let tlsCA = try #require(RedisTestServer.tlsCA)
        var options = Self.options(port: RedisTestServer.ports.plain, password: "tls-secret", tls: RedisTLS(caFile: tlsCA))
        options.commandTimeout = .milliseconds(500)
        let error = try #require(await Self.connectError(options))
        #expect(error.kind == .tlsFailed)
        #expect(error.message.contains("did not complete the TLS handshake within 500 ms (is it a plain redis:// port?)"), "\(error.message)")
        #expect(!error.message.contains("tls-secret"))
    }

    @Test func aMissingCAFileIsAClearError() async throws {
        let error = try #require(await Self.connectError(Self.options(tls: RedisTLS(caFile: "/nonexistent/sessionkit-ca.pem"))))
        #expect(error.kind == .tlsFailed)
        #expect(error.message.contains("cannot read the Redis TLS CA file /nonexistent/sessionkit-ca.pem"), "\(error.message)")
        // A file that holds no certificate.
        let notPEM = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-not-a-ca-\(UUID().uuidString).pem")
        try Data("not a certificate\n".utf8).write(to: notPEM)
        defer { try? FileManager.default.removeItem(at: notPEM) }
        let empty = try #require(await Self.connectError(Self.options(tls: RedisTLS(caFile: notPEM.path))))
        #expect(empty.kind == .tlsFailed, "\(empty.message)")
    }
}
