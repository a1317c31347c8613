import Foundation
import NIOCore
import SessionKit
import SessionKitRedis
import SessionKitTesting
import Synchronization
import Testing

/// The Redis server the tests use: `SESSIONKIT_REDIS_URL` (`scripts/redis-server start` prints it,
/// `scripts/test` sets it). Every store gets a key prefix of its own, so tests run in parallel.
enum RedisTestServer {
    static let url = ProcessInfo.processInfo.environment["SESSIONKIT_REDIS_URL"]
    /// The same server's TLS port, `rediss://127.0.0.1:<port>/0`, and the CA that signed its
    /// certificate (for 127.0.0.1 and localhost); a second CA that signed nothing.
    static let tlsURL = ProcessInfo.processInfo.environment["SESSIONKIT_REDIS_TLS_URL"]
    static let tlsCA = ProcessInfo.processInfo.environment["SESSIONKIT_REDIS_TLS_CA"]
    static let otherCA = ProcessInfo.processInfo.environment["SESSIONKIT_REDIS_TLS_OTHER_CA"]

    /// The trait of every test that needs a server.
    static let enabled = Testing.ConditionTrait.enabled(
        if: url != nil,
        "SESSIONKIT_REDIS_URL is not set: run `eval \"$(scripts/redis-server start)\"; export SESSIONKIT_REDIS_URL` (scripts/test does it)"
    )

    /// The trait of every test that needs the TLS port.
    static let tlsEnabled = Testing.ConditionTrait.enabled(
        if: url != nil && tlsURL != nil && tlsCA != nil && otherCA != nil,
        "SESSIONKIT_REDIS_TLS_URL, SESSIONKIT_REDIS_TLS_CA and SESSIONKIT_REDIS_TLS_OTHER_CA are not set: run `scripts/redis-server start` and export what it prints (scripts/test does it)"
    )

    /// The TLS port's URL with the test CA (`?ca=`) and `query` after it.
    static func tlsURL(query: String = "") -> String {
        "\(tlsURL ?? "rediss://127.0.0.1:6380/0")?ca=\(tlsCA ?? "/nonexistent")\(query.isEmpty ? "" : "&" + query)"
    }

    /// The plain port and the TLS port.
    static var ports: (plain: Int, tls: Int) {
        let plain = (try? RedisSessionStoreConfiguration(url: url ?? "redis://127.0.0.1:6379/0").port) ?? 6379
        let tls = (try? RedisSessionStoreConfiguration(url: tlsURL ?? "rediss://127.0.0.1:6380/0").port) ?? 6380
        return (plain, tls)
    }

    static func configuration(prefix: String = "sktest:\(UUID().uuidString)", url: String? = nil) throws -> RedisSessionStoreConfiguration {
        var configuration = try RedisSessionStoreConfiguration(url: url ?? self.url ?? "redis://127.0.0.1:6379/0", keyPrefix: prefix)
        configuration.poolSize = 2
        // Patient under a sanitizer (TestTimeScale): the suite's Redis load on a loaded two-core
        // machine outlasted the 5 s defaults (`scripts/test --sanitize address`, 2026-12-05).
        configuration.connectTimeout = TestTimeScale.limit(configuration.connectTimeout)
        configuration.commandTimeout = TestTimeScale.limit(configuration.commandTimeout)
        return configuration
    }

    /// A raw connection to the test server, for looking behind the store.
    static func connection() async throws -> RedisConnection {
        let configuration = try configuration()
        return try await RedisConnection.connect(to: .init(
            host: configuration.host, port: configuration.port, password: configuration.password, database: configuration.database
        )).get()
    }

    /// Every key under `prefix`.
    static func keys(_ prefix: String, on connection: RedisConnection) async throws -> [String] {
        var keys: [String] = []
        var cursor = "0"
        repeat {
            let reply = try await connection.send(RedisCommand("SCAN", cursor, "MATCH", "\(prefix):*", "COUNT", "1000"))
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let batch = parts[1].array else {
                throw SessionStoreError(.unavailable, "unexpected SCAN reply \(reply)")
            }
            keys += batch.compactMap(\.string)
            cursor = next
        } while cursor != "0"
        return keys
    }
}

/// Stores made during a test: closed, and their keys deleted, at its end.
final class RedisTestStores: Sendable {
    private let stores = Mutex<[RedisSessionStore]>([])
    let prefix = "sktest:\(UUID().uuidString)"
    /// The URL stores are made from (`nil`: the plain port); cleanup always uses the plain port.
    let url: String?

    init(url: String? = nil) {
        self.url = url
    }

    func make(
        prefix: String? = nil, clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        configure: (inout RedisSessionStoreConfiguration) -> Void = { _ in }
    ) throws -> RedisSessionStore {
        var configuration = try RedisTestServer.configuration(prefix: prefix ?? self.prefix, url: url)
        configure(&configuration)
        let store = RedisSessionStore(configuration: configuration, clock: clock)
        stores.withLock { $0.append(store) }
        return store
    }

    func finish() async throws {
        for store in stores.withLock({ $0 }) { store.close() }
        let connection = try await RedisTestServer.connection()
        defer { connection.close() }
        let keys = try await RedisTestServer.keys(prefix, on: connection)
        for key in keys { _ = try await connection.send(RedisCommand("DEL", key)) }
    }

    static func with(url: String? = nil, _ body: (RedisTestStores) async throws -> Void) async throws {
        let stores = RedisTestStores(url: url)
        do {
            try await body(stores)
        } catch {
            try? await stores.finish()
            throw error
        }
        try await stores.finish()
    }
}
