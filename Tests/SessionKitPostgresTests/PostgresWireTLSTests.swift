import Foundation
import NIOCore
@testable import SessionKitPostgres
import SessionKitTesting
import Testing

/// TLS on ``PostgresWireConnection``s made from a URL's options (`makeWireOptions`), as a store
/// made with `PostgresSessionStore(url:)` gets them: `require`, `verify-full` (by address and by
/// name) and `prefer` connect with TLS, as the server itself reports (`pg_stat_ssl`); `disable`
/// does not; a CA that did not sign the server's certificate, or a host its certificate does not
/// name, fails the connection as `.tlsFailed`, at once and saying why.
@Suite(
    "PostgresWireConnection TLS against the test server",
    .enabled(if: PostgresURLTestDatabase.isConfigured, PostgresURLTestDatabase.skipReason)
)
struct PostgresWireTLSTests {
    enum Mode: String, CaseIterable, CustomTestStringConvertible {
        case require, verifyFullByAddress, verifyFullByName, prefer, disable

        var testDescription: String { rawValue }

        var query: String {
            switch self {
            case .require: "sslmode=require"
            case .verifyFullByAddress, .verifyFullByName:
                PostgresConnectionURLServerTests.verifyFull(caPath: PostgresURLTestDatabase.certificateAuthority ?? "")
            case .prefer: "sslmode=prefer"
            case .disable: "sslmode=disable"
            }
        }

        var host: String { self == .verifyFullByName ? "localhost" : "127.0.0.1" }
        var usesTLS: Bool { self != .disable }
    }

    static func options(_ query: String, host: String = "127.0.0.1") throws -> PostgresWireConnection.Options {
        let url = try PostgresConnectionURL(PostgresURLTestDatabase.url(query, host: host), environment: [:])
        return try url.makeWireOptions(connectionTimeout: TestTimeScale.limit(.seconds(30)))
    }

    /// Whether the server sees this connection's session as TLS.
    static func usesTLS(_ connection: PostgresWireConnection) async throws -> Bool {
        try await connection.run(WireTest.sql("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), .init()).get().bool()
    }

    @Test(arguments: Mode.allCases)
    func eachModeUsesTLSAsItSays(_ mode: Mode) async throws {
        let options = try Self.options(mode.query, host: mode.host)
        switch (mode, options.tls) {
        case (.disable, .disable), (.prefer, .prefer), (.require, .require), (.verifyFullByAddress, .require), (.verifyFullByName, .require):
            break
        default:
            Issue.record("\(mode) made the wrong TLS option")
        }
        let connection = try await PostgresWireConnection.connect(to: options).get()
        defer { connection.close() }
        #expect(try await Self.usesTLS(connection) == mode.usesTLS)
        // Statements with values go through as well.
        let result = try await connection.run(
            PostgresWireStatement(name: "sessionkit_wire_tls_double", sql: "SELECT $1::int8 * 2", parameterTypes: [.int8]), WireTest.int8(21)
        ).get()
        #expect(try result.int64() == 42)
    }

    @Test func aWrongCAFailsClearlyAndQuickly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-wire-wrong-ca-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let wrongCA = directory.appendingPathComponent("ca.pem").path
        try PostgresConnectionURLServerTests.run("openssl", [
            "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-sha256", "-days", "1",
            "-subj", "/CN=Not the SessionKit test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-keyout", directory.appendingPathComponent("ca.key").path, "-out", wrongCA,
        ])
        let options = try Self.options(PostgresConnectionURLServerTests.verifyFull(caPath: wrongCA))
        let start = ContinuousClock.now
        let error = await #expect(throws: PostgresWireError.self) { _ = try await PostgresWireConnection.connect(to: options).get() }
        // A hang detector: the handshake fails in milliseconds, but the suite runs in parallel on two cores.
        #expect(ContinuousClock.now - start < TestTimeScale.limit(.seconds(10)), "a certificate that does not verify must fail the handshake, not hang")
        #expect(error?.kind == .tlsFailed, "\(String(describing: error?.kind))")
        let message = error?.message ?? ""
        #expect(message.contains("not signed by the CA of sslrootcert"), "unclear: \(message)")
        #expect(message.contains("127.0.0.1"), "names no server: \(message)")
    }

    /// The server also listens on 127.0.0.2, which its certificate (127.0.0.1, localhost) does not name.
    @Test func verifyFullRefusesAHostTheCertificateDoesNotName() async throws {
        let plain = try Self.options("sslmode=disable", host: "127.0.0.2")
        do {
            try await PostgresWireConnection.connect(to: plain).get().close()
        } catch {
            print("verifyFullRefusesAHostTheCertificateDoesNotName: skipped, the server is not reachable on 127.0.0.2 (\(error))")
            return
        }
        let ca = try #require(PostgresURLTestDatabase.certificateAuthority)
        let options = try Self.options(PostgresConnectionURLServerTests.verifyFull(caPath: ca), host: "127.0.0.2")
        let error = await #expect(throws: PostgresWireError.self) { _ = try await PostgresWireConnection.connect(to: options).get() }
        #expect(error?.kind == .tlsFailed)
        #expect(error?.message.contains("not for that host name or address") == true, "unclear: \(error?.message ?? "")")
    }
}
