// Micro benchmarks of SessionKit's hot paths: one operation per inner iteration, with its
// allocations (mallocCountTotal) and instructions where the machine counts them.
//
//   swift package --package-path Benchmarks benchmark
//   swift package --package-path Benchmarks benchmark --filter 'Codec.*decode'
//
// The PostgreSQL and Redis store benchmarks are registered only when SESSIONKIT_POSTGRES_URL /
// SESSIONKIT_REDIS_URL name a server (scripts/postgres-server start, scripts/redis-server start):
//
//   eval "$(scripts/postgres-server start)"; eval "$(scripts/redis-server start)"
//   export SESSIONKIT_POSTGRES_URL SESSIONKIT_REDIS_URL
//   swift package --package-path Benchmarks benchmark --filter 'Store.*'
import Benchmark
import Crypto
import Foundation
import PostgresNIO
import SessionKit
import SessionKitPostgres
import SessionKitRedis
import SessionKitSQLite
import BenchmarkFixtures

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 200
    )

    cookieBenchmarks()
    codecBenchmarks()
    costFloorBenchmarks()
    sessionBenchmarks()
    memoryStoreBenchmarks()
    sqliteStoreBenchmarks()
    postgresStoreBenchmarks()
    redisStoreBenchmarks()
}

// MARK: - Fixtures

let encrypted = EncryptedSessionCodec(keys: keys)
let signed = SignedSessionCodec(keys: keys)
let flask = try! FlaskSessionCodec(secretKey: secret.bytes)
let codecs: [(String, any SessionCodec)] = [("encrypted", encrypted), ("signed", signed), ("flask", flask)]

func cookieHeader(cookies count: Int, sessionValue: String) -> String {
    var pairs: [String] = []
    for index in 0..<(count - 1) { pairs.append("pref\(index)=\(filler(16, seed: UInt64(index + 1)))") }
    pairs.insert("session=\(sessionValue)", at: pairs.count / 2)
    return pairs.joined(separator: "; ")
}

// MARK: - Cookies

func cookieBenchmarks() {
    let sessionCookie = try! encrypted.encode(sessionData(size: 100), context: context)
    for count in [1, 5, 30] {
        let header = cookieHeader(cookies: count, sessionValue: sessionCookie)
        // Parsing alone: the spans, no String made.
        Benchmark("Cookie parse (\(count) cookies)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(RequestCookies(header: header).count)
            }
        }
        // Parsing and reading the session cookie's value (the returned String is one allocation).
        Benchmark("Cookie parse + lookup session (\(count) cookies)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(RequestCookies(header: header)["session"])
            }
        }
    }
    let setCookie = try! SetCookie(
        name: "session", value: sessionCookie, expires: Date(timeIntervalSince1970: TimeInterval(now)),
        path: "/", secure: true, httpOnly: true, sameSite: .lax
    )
    Benchmark("SetCookie serialize (session cookie, Expires)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(setCookie.headerValue)
        }
    }
    let idCookie = try! SetCookie(name: "session", value: SessionID().cookieValue, path: "/", secure: true, httpOnly: true, sameSite: .lax)
    Benchmark("SetCookie serialize (session ID, no Expires)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(idCookie.headerValue)
        }
    }
}

// MARK: - Codecs

func codecBenchmarks() {
    for (name, codec) in codecs {
        for (label, size) in sessionSizes {
            let data = sessionData(size: size)
            let cookie = try! codec.encode(data, context: context)
            guard case .valid = codec.decode(cookie[...], context: context) else { fatalError("\(name) \(label) does not round-trip") }
            Benchmark("Codec \(name) encode \(label) (cookie \(cookie.utf8.count) B)") { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try! codec.encode(data, context: context))
                }
            }
            Benchmark("Codec \(name) decode \(label) (cookie \(cookie.utf8.count) B)") { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(codec.decode(cookie[...], context: context))
                }
            }
        }
    }
}

// MARK: - Cost floor: the bare primitives on the bytes of a 200-byte session

func costFloorBenchmarks() {
    let data = sessionData(size: 200)

    // Encrypted: the same 200-byte-session cookie through the codec, and its plaintext's size
    // through AES-GCM open alone (no base64, no payload parsing).
    let encryptedCookie = try! encrypted.encode(data, context: context)
    let encryptedBytes = Array(Base64URLDecode(encryptedCookie))
    let plaintextCount = encryptedBytes.count - 2 - 12 - 16
    let aesKey = SymmetricKey(size: .bits256)
    let box = try! AES.GCM.seal(Array(repeating: UInt8(7), count: plaintextCount), using: aesKey, authenticating: floorAAD(version: 0x01))
    let aesAAD = floorAAD(version: 0x01)
    let combined = Array(box.combined!)
    Benchmark("Floor AES-GCM open (200B session: \(plaintextCount) B plaintext)") { benchmark in
        for _ in benchmark.scaledIterations {
            let sealed = try! AES.GCM.SealedBox(combined: combined)
            blackHole(try! AES.GCM.open(sealed, using: aesKey, authenticating: aesAAD))
        }
    }
    Benchmark("Codec encrypted decode 200B (cookie \(encryptedCookie.utf8.count) B)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(encrypted.decode(encryptedCookie[...], context: context))
        }
    }

    // Signed: HMAC-SHA256 over the same bytes the codec MACs (aad + message), compared in constant time.
    let signedCookie = try! signed.encode(data, context: context)
    let signedBytes = Array(Base64URLDecode(signedCookie))
    let message = Array(signedBytes.dropLast(32))
    let hmacKey = SymmetricKey(size: .bits256)
    let hmacAAD = floorAAD(version: 0x81)
    let mac = Array(HMAC<SHA256>.authenticationCode(for: hmacAAD + message, using: hmacKey))
    Benchmark("Floor HMAC-SHA256 verify (200B session: \(message.count) B message)") { benchmark in
        for _ in benchmark.scaledIterations {
            var hmac = HMAC<SHA256>(key: hmacKey)
            hmac.update(data: hmacAAD)
            hmac.update(data: message)
            blackHole(hmac.finalize() == mac)
        }
    }
    Benchmark("Codec signed decode 200B (cookie \(signedCookie.utf8.count) B)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(signed.decode(signedCookie[...], context: context))
        }
    }
}

// MARK: - Session get/set

func sessionBenchmarks() {
    // As a request sees it: the data decoded from a cookie (values held as JSON text).
    let cookie = try! encrypted.encode(sessionData(size: 100), context: context)
    guard case .valid(let loaded, _) = encrypted.decode(cookie[...], context: context) else { fatalError() }

    Benchmark("Session new from loaded data") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Session(data: loaded))
        }
    }
    Benchmark("Session get Int (first read: decodes)") { benchmark in
        for _ in benchmark.scaledIterations {
            let session = Session(data: loaded)
            blackHole(session["counter", as: Int.self])
        }
    }
    Benchmark("Session get String (first read: decodes)") { benchmark in
        for _ in benchmark.scaledIterations {
            let session = Session(data: loaded)
            blackHole(session["_user_id", as: String.self])
        }
    }
    let warm = Session(data: loaded)
    _ = warm["counter", as: Int.self]
    Benchmark("Session get Int (cached)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(warm["counter", as: Int.self])
        }
    }
    Benchmark("Session set Int") { benchmark in
        var n = 0
        for _ in benchmark.scaledIterations {
            n += 1
            warm["counter"] = n
        }
    }
}

// MARK: - Stores

let sessionCount = 10_000

func storedSession(_ index: Int) -> StoredSession {
    StoredSession(
        values: sessionData(size: 100).values,
        createdAt: now, expiresAt: now + 7200, absoluteExpiresAt: now + 90 * 24 * 3600,
        userAgent: "wrk/4", ipAddress: "127.0.0.1"
    )
}

let storageKeys: [SessionStorageKey] = (0..<sessionCount).map { _ in SessionID().storageKey }
let counterDelta = SessionDelta.update(set: ["counter": try! SessionValue(encoding: 42)], remove: [])

func storeBenchmarks(_ name: String, makeStore: @escaping @Sendable () async throws -> any SessionStore, close: @escaping @Sendable (any SessionStore) async throws -> Void) {
    // One store per benchmark, filled in setup with `sessionCount` sessions.
    nonisolated(unsafe) var store: (any SessionStore)?
    let setup: Benchmark.BenchmarkSetupHook = {
        let created = try await makeStore()
        for (index, key) in storageKeys.enumerated() { try await created.create(key, storedSession(index)) }
        store = created
    }
    let teardown: Benchmark.BenchmarkTeardownHook = {
        if let store { try await close(store) }
        store = nil
    }
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        warmupIterations: 10, scalingFactor: .one, maxDuration: .seconds(1), maxIterations: 100_000
    )
    var next = 0
    func key() -> SessionStorageKey {
        next = (next &+ 7919) % sessionCount
        return storageKeys[next]
    }
    Benchmark("Store \(name) load", configuration: configuration, closure: { benchmark async in
        for _ in benchmark.scaledIterations { blackHole(try! await store!.load(key())) }
    }, setup: setup, teardown: teardown)
    Benchmark("Store \(name) apply (delta: set 1 key)", configuration: configuration, closure: { benchmark async in
        for _ in benchmark.scaledIterations { blackHole(try! await store!.apply(counterDelta, to: key(), expiresAt: now + 7200)) }
    }, setup: setup, teardown: teardown)
    Benchmark("Store \(name) touch", configuration: configuration, closure: { benchmark async in
        for _ in benchmark.scaledIterations { blackHole(try! await store!.touch(key(), expiresAt: now + 7200)) }
    }, setup: setup, teardown: teardown)
}

let fixedClock: @Sendable () -> Int64 = { now }

func memoryStoreBenchmarks() {
    storeBenchmarks("memory", makeStore: { MemorySessionStore(clock: fixedClock) }, close: { _ in })

    // Memory use of a full store: 1M small sessions (the target: well under 500 MB).
    Benchmark(
        "Store memory 1M sessions (peak RSS)",
        configuration: .init(metrics: [.wallClock, .peakMemoryResident, .peakMemoryResidentDelta], warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 1)
    ) { benchmark async in
        let store = MemorySessionStore(configuration: .init(maximumSessions: 1_000_000), clock: fixedClock)
        let record = storedSession(0)
        for _ in 0..<1_000_000 {
            try! await store.create(SessionID().storageKey, record)
        }
        blackHole(store.count)
    }
}

func sqliteStoreBenchmarks() {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-bench-\(getpid())")
    storeBenchmarks("sqlite", makeStore: {
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = SQLiteSessionStore(configuration: .init(path: directory.appendingPathComponent("sessions.sqlite").path), clock: fixedClock)
        try await store.migrate()
        return store
    }, close: { store in
        try await (store as! SQLiteSessionStore).close()
        try? FileManager.default.removeItem(at: directory)
    })
}

/// Against the server in SESSIONKIT_POSTGRES_URL (`postgres://user[:password]@host[:port]/database`):
/// each benchmark's store gets a schema of its own, dropped in teardown, and a client run for it.
func postgresStoreBenchmarks() {
    guard let url = ProcessInfo.processInfo.environment["SESSIONKIT_POSTGRES_URL"], !url.isEmpty else { return }
    guard let components = URLComponents(string: url), let host = components.host, let user = components.user else {
        fatalError("SESSIONKIT_POSTGRES_URL must look like postgres://user@host:port/database")
    }
    let database = String(components.path.drop { $0 == "/" })
    let clientConfiguration = PostgresClient.Configuration(
        host: host, port: components.port ?? 5432, username: user, password: components.password,
        database: database.isEmpty ? nil : database, tls: .disable
    )
    nonisolated(unsafe) var running: Task<Void, Never>?
    storeBenchmarks("postgres", makeStore: {
        let client = PostgresClient(configuration: clientConfiguration)
        running = Task { await client.run() }
        let schema = "sessionkit_bench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let store = PostgresSessionStore(client: client, configuration: .init(schema: schema, runsClient: false), clock: fixedClock)
        try await store.migrate()
        return store
    }, close: { store in
        let store = store as! PostgresSessionStore
        _ = try await store.client.query("DROP SCHEMA IF EXISTS \(unescaped: store.configuration.schema!) CASCADE")
        running?.cancel()
        await running?.value
        running = nil
    })
}

/// Against the server in SESSIONKIT_REDIS_URL: each benchmark's store gets a key prefix of its own;
/// teardown deletes its sessions.
func redisStoreBenchmarks() {
    guard let url = ProcessInfo.processInfo.environment["SESSIONKIT_REDIS_URL"], !url.isEmpty else { return }
    storeBenchmarks("redis", makeStore: {
        let store = RedisSessionStore(configuration: try .init(url: url, keyPrefix: "sessionkit-bench:\(UUID().uuidString)"), clock: fixedClock)
        try await store.ping()
        return store
    }, close: { store in
        let store = store as! RedisSessionStore
        for key in storageKeys { try await store.delete(key) }
        store.close()
    })
}
