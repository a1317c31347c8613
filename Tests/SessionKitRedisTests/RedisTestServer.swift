import Foundation
import NIOCore
import SessionKit
import SessionKitRedis
import Synchronization
import Testing

/// The Redis server the tests use: `SESSIONKIT_REDIS_URL` (`scripts/redis-server start` prints it,
/// `scripts/test` sets it). Every store gets a key prefix of its own, so tests run in parallel.
enum RedisTestServer {
    static let url = ProcessInfo.processInfo.environment["SESSIONKIT_REDIS_URL"]

    /// The trait of every test that needs a server.
    static let enabled = Testing.ConditionTrait.enabled(
        if: url != nil,
        "SESSIONKIT_REDIS_URL is not set: run `eval \"$(scripts/redis-server start)\"; export SESSIONKIT_REDIS_URL` (scripts/test does it)"
    )

    static func configuration(prefix: String = "sktest:\(UUID().uuidString)") throws -> RedisSessionStoreConfiguration {
        var configuration = try RedisSessionStoreConfiguration(url: url ?? "redis://127.0.0.1:6379/0", keyPrefix: prefix)
        configuration.poolSize = 2
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

    func make(
        prefix: String? = nil, clock: @escaping @Sendable () -> Int64 = systemSessionClock,
        configure: (inout RedisSessionStoreConfiguration) -> Void = { _ in }
    ) throws -> RedisSessionStore {
        var configuration = try RedisTestServer.configuration(prefix: prefix ?? self.prefix)
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

    static func with(_ body: (RedisTestStores) async throws -> Void) async throws {
        let stores = RedisTestStores()
        do {
            try await body(stores)
        } catch {
            try? await stores.finish()
            throw error
        }
        try await stores.finish()
    }
}
