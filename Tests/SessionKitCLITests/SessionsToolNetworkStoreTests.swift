import Foundation
import SessionKit
import SessionKitPostgres
import SessionKitRedis
import Testing

/// `sessionkit sessions …` on the stores a fleet shares: Redis and PostgreSQL by URL, against the
/// servers `scripts/test` starts (skipped, and saying so, without them).
@Suite("sessionkit sessions, Redis and PostgreSQL", .serialized)
struct SessionsToolNetworkStoreTests {
    static let environment = ProcessInfo.processInfo.environment
    static let redisURL = environment["SESSIONKIT_REDIS_URL"]
    /// The test server speaks TLS, but the tool is pointed at it in plain text, as the demo is.
    static let postgresURL = environment["SESSIONKIT_POSTGRES_URL"].map { $0 + "?sslmode=disable" }

    static func record(user: String, agent: String) throws -> StoredSession {
        let now = SessionClock.system()
        return StoredSession(
            values: [StoredSession.userIDKey: try SessionValue(encoding: user)],
            createdAt: now, expiresAt: now + 3600, absoluteExpiresAt: now + 86_400, userAgent: agent
        )
    }

    /// Two sessions of a new user in `store`, then list, revoke one by its key prefix, revoke all.
    static func listAndRevoke(_ store: any SessionUserIndex, url: String) async throws {
        let user = "cli-\(UUID().uuidString.prefix(8))"
        let first = SessionID().storageKey
        try await store.create(first, record(user: user, agent: "Firefox"))
        try await store.create(SessionID().storageKey, record(user: user, agent: "Safari"))

        let list = try await Tool.run(["sessions", "list", "--store", url, "--user", user])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.hasPrefix("2 live sessions of \(user)\n"), "\(list.stdout)")
        let one = try await Tool.run(["sessions", "revoke", "--store", url, "--user", user, "--session", String(first.hex.prefix(12))])
        #expect(one.stdout == "revoked 1 session of \(user)\n", "\(one.stdout)\(one.stderr)")
        #expect(try await store.load(first) == nil)
        let all = try await Tool.run(["sessions", "revoke", "--store", url, "--user", user])
        #expect(all.stdout == "revoked 1 session of \(user)\n", "\(all.stdout)\(all.stderr)")
        #expect(try await store.sessions(ofUser: user).isEmpty)
        let purge = try await Tool.run(["sessions", "purge", "--store", url])
        #expect(purge.status == 0 && purge.stdout.hasPrefix("removed "), "\(purge.stdout)\(purge.stderr)")
    }

    @Test(.enabled(if: redisURL != nil, "SESSIONKIT_REDIS_URL is not set: scripts/test starts a Redis"))
    func redis() async throws {
        let url = try #require(Self.redisURL)
        let store = RedisSessionStore(configuration: try RedisSessionStoreConfiguration(url: url))
        defer { store.close() }
        try await Self.listAndRevoke(store, url: url)
    }

    @Test(.enabled(if: postgresURL != nil, "SESSIONKIT_POSTGRES_URL is not set: scripts/test starts a PostgreSQL"))
    func postgres() async throws {
        let url = try #require(Self.postgresURL)
        let store = try PostgresSessionStore(url: PostgresConnectionURL(url), configuration: .init(connectionTimeout: .seconds(30)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            defer { group.cancelAll() }
            try await store.migrate()
            try await Self.listAndRevoke(store, url: url)
        }
    }

    /// A password in the URL or the environment shows nowhere: not in an error, not in `--help`.
    @Test func passwordsAreNeverPrinted() async throws {
        let secret = "pw-\(UUID().uuidString)"
        for url in ["redis://:\(secret)@127.0.0.1:1/0", "redis://app:\(secret)@127.0.0.1:1", "postgres://app:\(secret)@127.0.0.1:1/db?sslmode=disable",
                    "postgres://app:\(secret)@127.0.0.1:1/db?sslmode=bogus", "redis://app:\(secret)@127.0.0.1:99999"] {
            let result = try await Tool.run(["sessions", "list", "--store", url, "--user", "a"])
            #expect(result.status != 0, "\(url)")
            #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret), "\(result.stderr)")
        }
        let help = try await Tool.run(["sessions", "list", "--help"], environment: ["SESSIONKIT_STORE_PASSWORD": secret])
        #expect(help.stdout.contains("SESSIONKIT_STORE_PASSWORD") && !help.stdout.contains(secret))
    }
}
