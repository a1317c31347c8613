import Foundation
import PostgresNIO
import SessionKit
@testable import SessionKitPostgres
import Testing

/// Parsing of `postgres://` URLs, their client configuration, errors and redaction; no server needed.
@Suite("PostgresConnectionURL")
struct PostgresConnectionURLTests {
    static let secret = "s3cr3t-P@ss:w/rd%"
    static let encodedSecret = "s3cr3t-P%40ss%3Aw%2Frd%25"

    static func parse(_ url: String, passwordVariable: String? = nil, environment: [String: String] = [:]) throws -> PostgresConnectionURL {
        try PostgresConnectionURL(url, passwordEnvironmentVariable: passwordVariable, environment: environment)
    }

    @Test func parsesEveryPart() throws {
        let url = try Self.parse(
            "postgresql://app%2Buser:\(Self.encodedSecret)@db.internal:6432/sessions%20db?sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Fca.pem&statement_timeout=2s&connect_timeout=3&application_name=shop%20web"
        )
        #expect(url.username == "app+user")
        #expect(url.password == Self.secret)
        #expect(url.host == "db.internal")
        #expect(url.port == 6432)
        #expect(url.database == "sessions db")
        #expect(url.sslMode == .verifyFull)
        #expect(url.sslRootCertificate == "/etc/ssl/ca.pem")
        #expect(url.statementTimeout == .seconds(2))
        #expect(url.connectTimeout == .seconds(3))
        #expect(url.applicationName == "shop web")
    }

    @Test func defaults() throws {
        let url = try Self.parse("postgres://app@localhost")
        #expect(url.port == 5432)
        #expect(url.database == nil)
        #expect(url.password == nil)
        #expect(url.sslMode == .require, "never plain text unless asked for")
        #expect(url.sslRootCertificate == nil)
        #expect(url.statementTimeout == PostgresConnectionURL.defaultStatementTimeout)
        #expect(url.statementTimeout == .seconds(5))
        #expect(url.connectTimeout == nil)
        #expect(url.usesPreparedStatements)
        #expect(try Self.parse("postgres://app@localhost/").database == nil)
        #expect(try Self.parse("POSTGRES://app@localhost/db").database == "db")
    }

    /// `prepared_statements=off` reaches the store's configuration, and the description keeps it.
    @Test func preparedStatementsCanBeTurnedOff() throws {
        let off = try Self.parse("postgres://app@db/app?sslmode=disable&prepared_statements=off")
        #expect(!off.usesPreparedStatements)
        #expect(off.description.hasSuffix("&prepared_statements=off"))
        #expect(try Self.parse(off.description).usesPreparedStatements == false)
        #expect(try Self.parse("postgres://app@db/app?prepared_statements=on").usesPreparedStatements)
        #expect(!(try PostgresSessionStore(url: off).configuration.usesPreparedStatements))
        #expect(try PostgresSessionStore(url: Self.parse("postgres://app@db/app?sslmode=disable")).configuration.usesPreparedStatements)
    }

    /// `pool_size=N`: a store made from the URL keeps N connections of its own for requests and a
    /// `PostgresClient` of 2; a client made from the URL keeps N (its minimum and maximum both, no
    /// idle timer). 4 unless given; keep-alive every 5 seconds.
    @Test func poolSizeSetsTheMinimumAndMaximumConnections() throws {
        let url = try Self.parse("postgres://app@db/app?sslmode=disable&pool_size=12")
        #expect(url.poolSize == 12)
        #expect(url.description.hasSuffix("&pool_size=12"))
        #expect(try Self.parse(url.description).poolSize == 12)
        let options = try url.makeClientConfiguration().options
        #expect(options.minimumConnections == 12 && options.maximumConnections == 12)
        #expect(options.keepAliveBehavior?.frequency == .seconds(5))
        let defaults = try Self.parse("postgres://app@db/app?sslmode=disable")
        #expect(defaults.poolSize == 4)
        #expect(!defaults.description.contains("pool_size"))
        let defaultOptions = try defaults.makeClientConfiguration().options
        #expect(defaultOptions.minimumConnections == 4 && defaultOptions.maximumConnections == 4)
        #expect(try PostgresSessionStore(url: url).wirePool?.size == 12)
        #expect(try PostgresSessionStore(url: defaults).wirePool?.size == 4)
    }

    @Test func ipv6Hosts() throws {
        let url = try Self.parse("postgres://app@[::1]:5433/db")
        #expect(url.host == "::1")
        #expect(url.port == 5433)
        #expect(try Self.parse("postgres://app@[fe80::1]/db").port == 5432)
        #expect(url.description.contains("@[::1]:5433/db"))
    }

    @Test(arguments: [
        ("disable", PostgresConnectionURL.SSLMode.disable), ("prefer", .prefer), ("require", .require),
        ("verify-ca", .verifyCA), ("verify-full", .verifyFull),
    ])
    func sslModes(_ text: String, _ mode: PostgresConnectionURL.SSLMode) throws {
        let url = try Self.parse("postgres://app@db/app?sslmode=\(text)&sslrootcert=system")
        #expect(url.sslMode == mode)
        #expect(url.sslMode.description == text)
    }

    @Test func tlsOfEachMode() throws {
        func tls(_ query: String) throws -> PostgresConnectionURL.TLSChoice {
            try Self.parse("postgres://app@db/app?\(query)").tlsConfiguration()
        }
        guard case .none = try tls("sslmode=disable") else { Issue.record("disable must not use TLS"); return }
        guard case .prefer(let prefer) = try tls("sslmode=prefer") else { Issue.record("prefer"); return }
        #expect(prefer.certificateVerification == .none)
        guard case .require(let require) = try tls("sslmode=require") else { Issue.record("require"); return }
        #expect(require.certificateVerification == .none, "libpq's require: encrypted, certificate not checked")
        guard case .require(let requireWithRoot) = try tls("sslmode=require&sslrootcert=system") else { Issue.record("require+root"); return }
        #expect(requireWithRoot.certificateVerification == .noHostnameVerification, "libpq: require with a root certificate checks the chain")
        guard case .require(let verifyCA) = try tls("sslmode=verify-ca&sslrootcert=system") else { Issue.record("verify-ca"); return }
        #expect(verifyCA.certificateVerification == .noHostnameVerification)
        guard case .require(let verifyFull) = try tls("sslmode=verify-full&sslrootcert=system") else { Issue.record("verify-full"); return }
        #expect(verifyFull.certificateVerification == .fullVerification)
        #expect(verifyFull.trustRoots == .default)
    }

    @Test func verifyFullReadsTheCAFileAndFailsClearlyWithoutOne() throws {
        let error = #expect(throws: SessionStoreError.self) { try Self.parse("postgres://app@db/app?sslmode=verify-full") }
        #expect(error?.message.contains("needs sslrootcert") == true)
        #expect(throws: SessionStoreError.self) { try Self.parse("postgres://app@db/app?sslmode=verify-ca") }

        let missing = try Self.parse("postgres://app@db/app?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
        let readError = #expect(throws: SessionStoreError.self) { try missing.makeClientConfiguration() }
        #expect(readError?.message.contains("/nonexistent/ca.pem") == true)
        #expect(readError?.message.contains("cannot read the CA certificates") == true)

        let notPEM = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-not-a-ca-\(UUID()).pem")
        try Data("not a certificate\n".utf8).write(to: notPEM)
        defer { try? FileManager.default.removeItem(at: notPEM) }
        let notPEMURL = try Self.parse("postgres://app@db/app?sslmode=verify-full&sslrootcert=\(notPEM.path)")
        #expect(throws: SessionStoreError.self) { try notPEMURL.makeClientConfiguration() }
    }

    @Test func clientConfiguration() throws {
        let url = try Self.parse("postgres://app:\(Self.encodedSecret)@db.internal:6432/app?sslmode=disable&statement_timeout=1500&application_name=web&connect_timeout=2s")
        let configuration = try url.makeClientConfiguration()
        #expect(configuration.host == "db.internal")
        #expect(configuration.port == 6432)
        #expect(configuration.username == "app")
        #expect(configuration.password == Self.secret)
        #expect(configuration.database == "app")
        #expect(configuration.options.connectTimeout == .seconds(2))
        let parameters = configuration.options.additionalStartupParameters
        #expect(parameters.map(\.0) == ["statement_timeout", "application_name"])
        #expect(parameters.map(\.1) == ["1500", "web"])
    }

    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)), ("250", .milliseconds(250)), ("5s", .seconds(5)), ("2min", .seconds(120)),
        ("1h", .seconds(3600)), ("1d", .seconds(86_400)), ("1500us", .microseconds(1500)), ("0", .zero), ("3 s", .seconds(3)),
    ])
    func statementTimeouts(_ text: String, _ expected: Duration) throws {
        let url = try Self.parse("postgres://app@db/app?statement_timeout=\(text.replacingOccurrences(of: " ", with: "%20"))")
        #expect(url.statementTimeout == expected)
    }

    @Test func statementTimeoutIsSentInWholeMilliseconds() throws {
        let parameters = { (query: String) throws -> String? in
            try Self.parse("postgres://app@db/app?\(query)").startupParameters.first { $0.0 == "statement_timeout" }?.1
        }
        #expect(try parameters("") == "5000")
        #expect(try parameters("statement_timeout=0") == "0", "0 turns the limit off, overriding the role's setting")
        #expect(try parameters("statement_timeout=1500us") == "2", "rounded up: a positive limit never becomes none")
        #expect(try parameters("statement_timeout=1min") == "60000")
    }

    @Test func passwordFromTheEnvironmentWhenTheURLHasNone() throws {
        let environment = ["SESSIONKIT_STORE_PASSWORD": "from-named", "PGPASSWORD": "from-pg"]
        #expect(try Self.parse("postgres://app@db/app", passwordVariable: "SESSIONKIT_STORE_PASSWORD", environment: environment).password == "from-named")
        #expect(try Self.parse("postgres://app:@db/app", passwordVariable: "SESSIONKIT_STORE_PASSWORD", environment: environment).password == "from-named")
        #expect(try Self.parse("postgres://app@db/app", passwordVariable: "UNSET_VARIABLE", environment: environment).password == "from-pg")
        #expect(try Self.parse("postgres://app@db/app", environment: environment).password == "from-pg")
        #expect(try Self.parse("postgres://app:in-url@db/app", passwordVariable: "SESSIONKIT_STORE_PASSWORD", environment: environment).password == "in-url")
        #expect(try Self.parse("postgres://app@db/app", passwordVariable: "SESSIONKIT_STORE_PASSWORD", environment: [:]).password == nil)
        #expect(try Self.parse("postgres://app@db/app", passwordVariable: "SESSIONKIT_STORE_PASSWORD", environment: ["SESSIONKIT_STORE_PASSWORD": ""]).password == nil)
    }

    /// Each malformed URL carries the password, sometimes where a parser could mistake it for another part.
    @Test(arguments: [
        "mysql://app:\(PostgresConnectionURLTests.secret)@db/app",
        "postgres//app:\(PostgresConnectionURLTests.secret)@db/app",
        "postgres://app:\(PostgresConnectionURLTests.secret)@db/app#frag",
        "postgres://app:s3cr3t-P?ss@db/app",
        "postgres://app:s3cr3t/Pss@db/app",
        "postgres://app:s3cr3t-Pss@db:99999/app",
        "postgres://app:s3cr3t-Pss@db:s3cr3t/app",
        "postgres://app:s3cr3t-Pss@/app",
        "postgres://:s3cr3t-Pss@db/app",
        "postgres://app:s3cr3t-%ZZPss@db/app",
        "postgres://app:s3cr3t-Pss@db1,db2/app",
        "postgres://app:s3cr3t-Pss@[::1/app",
        "postgres://app:s3cr3t-Pss@db/app/more",
        "postgres://app:s3cr3t-Pss@db/app?sslmode=verify",
        "postgres://app:s3cr3t-Pss@db/app?sslmode=s3cr3t-Pss",
        "postgres://app:s3cr3t-Pss@db/app?s3cr3t-Pss=1",
        "postgres://app:s3cr3t-Pss@db/app?password=s3cr3t-Pss",
        "postgres://app:s3cr3t-Pss@db/app?sslmode=require&sslmode=disable",
        "postgres://app:s3cr3t-Pss@db/app?statement_timeout=5x",
        "postgres://app:s3cr3t-Pss@db/app?statement_timeout=-1",
        "postgres://app:s3cr3t-Pss@db/app?statement_timeout=30d",
        "postgres://app:s3cr3t-Pss@db/app?connect_timeout=0",
        "postgres://app:s3cr3t-Pss@db/app?sslmode=",
        "postgres://app:s3cr3t-Pss@db/app?sslmode=verify-full",
        "postgres://app:s3cr3t-Pss@db/app?prepared_statements=no",
        "postgres://app:s3cr3t-Pss@db/app?pool_size=0",
        "postgres://app:s3cr3t-Pss@db/app?pool_size=1001",
        "postgres://app:s3cr3t-Pss@db/app?pool_size=ten",
    ])
    func invalidURLsThrowWithoutThePassword(_ url: String) throws {
        let error = #expect(throws: SessionStoreError.self) { try Self.parse(url) }
        let message = try #require(error).description
        #expect(message.contains("PostgreSQL URL"), "the message says what was wrong: \(message)")
        for fragment in ["s3cr3t", "Pss", Self.secret, Self.encodedSecret] {
            #expect(!message.contains(fragment), "the error message leaks the password: \(message)")
        }
    }

    @Test func neitherDescriptionNorDumpShowsThePassword() throws {
        let url = try Self.parse("postgres://app:\(Self.encodedSecret)@db.internal/app?sslmode=require&application_name=web")
        var dumped = ""
        dump(url, to: &dumped)
        let printed = [
            url.description, url.debugDescription, "\(url)", String(describing: url), String(reflecting: url), dumped,
            "\([url])", "\(Optional(url) as Any)",
        ]
        for text in printed {
            #expect(!text.contains("s3cr3t"), "the password leaks: \(text)")
            #expect(!text.contains(Self.encodedSecret), "the password leaks: \(text)")
        }
        #expect(url.description == "postgres://app:********@db.internal:5432/app?sslmode=require&statement_timeout=5000ms&application_name=web")
        #expect(dumped.contains("password: \"********\""))
        #expect(dumped.contains("host: \"db.internal\""))
        let withoutPassword = try Self.parse("postgres://app@db.internal/app")
        #expect(withoutPassword.description == "postgres://app@db.internal:5432/app?sslmode=require&statement_timeout=5000ms")
        // The store's convenience initializer takes the URL (and reads no CA for require); a dump
        // of the store shows neither its PostgresClient's configuration nor its own connections' options.
        let store = try PostgresSessionStore(url: url)
        var dumpedStore = ""
        dump(store, to: &dumpedStore)
        for text in [dumpedStore, String(reflecting: store), "\(store)"] {
            #expect(!text.contains("s3cr3t") && !text.contains(Self.encodedSecret), "the password leaks: \(text)")
        }
        #expect(dumpedStore.contains("ownConnections"))
    }
}
