import Logging
import MetricsTestKit
import Synchronization
import Testing
@testable import SessionKit
import SessionKitTesting

/// The engine's swift-metrics counters and store timers, through a `TestMetrics` factory given to
/// each engine (no process-wide bootstrap, so tests run in parallel).
@Suite("Session metrics")
struct SessionMetricsTests {
    static let oldKeys = try! KeyRing(current: SessionSecret(text: String(repeating: "metrics-old-secret-", count: 2)))
    static let keys = try! KeyRing(
        current: SessionSecret(text: String(repeating: "metrics-new-secret-", count: 2)),
        previous: [SessionSecret(text: String(repeating: "metrics-old-secret-", count: 2))]
    )
    static let now: Int64 = 1_700_000_000

    static func cookieEngine(_ keys: KeyRing, metrics: TestMetrics, now: Int64 = now) -> SessionEngine {
        SessionEngine(
            codec: EncryptedSessionCodec(keys: keys), logger: Logger(label: "test"), clock: { now },
            observability: SessionObservability(metricsFactory: metrics)
        )
    }

    static func serverEngine(_ store: any SessionStore, metrics: TestMetrics, clock: @escaping @Sendable () -> Int64 = { now }) -> SessionEngine {
        SessionEngine(store: store, logger: Logger(label: "test"), clock: clock, observability: SessionObservability(metricsFactory: metrics))
    }

    static func count(_ metrics: TestMetrics, _ label: String, _ dimensions: [(String, String)]) -> Int64 {
        metrics.counterTotal(label: label, dimensions: dimensions)
    }

    /// A new cookie value holding `user`.
    static func cookie(_ engine: SessionEngine, user: String = "ada") async throws -> String {
        let session = try await engine.load(from: RequestCookies())
        session["user"] = user
        return try #require(try await engine.commit(session).setCookies.first).value
    }

    @Test func cookieSessionCounters() async throws {
        let metrics = TestMetrics()
        let engine = Self.cookieEngine(Self.keys, metrics: metrics)
        let storage = [("storage", "cookie")]

        let value = try await Self.cookie(engine)
        #expect(Self.count(metrics, "sessionkit_sessions_created", storage) == 1)

        // A session read and left alone is no new session.
        let loaded = try await engine.load(from: RequestCookies(header: "session=\(value)"))
        #expect(loaded["user", as: String.self] == "ada")
        _ = try await engine.commit(loaded)
        #expect(Self.count(metrics, "sessionkit_sessions_created", storage) == 1)

        // Invalidated.
        let ending = try await engine.load(from: RequestCookies(header: "session=\(value)"))
        ending.invalidate()
        #expect(try await engine.commit(ending).setCookies.first?.maxAge == 0)
        #expect(Self.count(metrics, "sessionkit_sessions_invalidated", storage) == 1)

        // Key rotation: a cookie under the previous key is re-issued under the current one.
        let old = try await Self.cookie(Self.cookieEngine(Self.oldKeys, metrics: TestMetrics()))
        let rotated = try await engine.load(from: RequestCookies(header: "session=\(old)"))
        #expect(try await engine.commit(rotated).setCookies.count == 1)
        #expect(Self.count(metrics, "sessionkit_key_rotation_reissues", storage) == 1)
    }

    @Test func rejectedCookiesByReason() async throws {
        let metrics = TestMetrics()
        let engine = Self.cookieEngine(Self.keys, metrics: metrics)
        let value = try await Self.cookie(engine)
        func rejected(_ reason: String) -> Int64 {
            Self.count(metrics, "sessionkit_cookies_rejected", [("storage", "cookie"), ("reason", reason)])
        }

        // Bad signature: one character of the authenticated part changed.
        var bytes = Array(value.utf8)
        let middle = bytes.count / 2
        bytes[middle] = bytes[middle] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        _ = try await engine.load(from: RequestCookies(header: "session=\(String(decoding: bytes, as: UTF8.self))"))
        #expect(rejected("bad_signature") == 1)

        // Expired: the same cookie read 40 days later (past the 31-day lifetime).
        let later = Self.cookieEngine(Self.keys, metrics: metrics, now: Self.now + 40 * 24 * 3600)
        _ = try await later.load(from: RequestCookies(header: "session=\(value)"))
        #expect(rejected("expired") == 1)
        #expect(Self.count(metrics, "sessionkit_sessions_expired", [("storage", "cookie")]) == 1)

        // Malformed and oversize.
        _ = try await engine.load(from: RequestCookies(header: "session=not*a*cookie"))
        #expect(rejected("malformed") == 1)
        _ = try await engine.load(from: RequestCookies(header: "session=\(String(repeating: "A", count: 5000))"))
        #expect(rejected("too_large") == 1)

        // No label ever holds a cookie's value.
        for counter in metrics.counters {
            #expect(!counter.dimensions.contains { $0.1.contains(value) || $0.1.count > 20 })
        }
    }

    @Test func serverSessionCountersAndStoreTimers() async throws {
        let metrics = TestMetrics()
        let store = MemorySessionStore(clock: { Self.now })
        let clock = Mutex(Self.now)
        let engine = Self.serverEngine(store, metrics: metrics, clock: { clock.withLock { $0 } })
        let storage = [("storage", "memory")]

        let value = try await Self.cookie(engine)
        #expect(Self.count(metrics, "sessionkit_sessions_created", storage) == 1)
        #expect(try metrics.expectTimer("sessionkit_store_operation_duration", [("store", "memory"), ("operation", "create")]).values.count == 1)

        // A change is one timed apply.
        let changing = try await engine.load(from: RequestCookies(header: "session=\(value)"))
        changing["cart"] = 3
        _ = try await engine.commit(changing)
        let load = try metrics.expectTimer("sessionkit_store_operation_duration", [("store", "memory"), ("operation", "load")])
        #expect(load.values.count == 1)
        #expect(load.values.allSatisfy { $0 >= 0 })
        #expect(try metrics.expectTimer("sessionkit_store_operation_duration", [("store", "memory"), ("operation", "apply")]).values.count == 1)

        // Regenerated: a new ID (a timed rename).
        let regenerating = try await engine.load(from: RequestCookies(header: "session=\(value)"))
        regenerating.regenerateID()
        let renamed = try #require(try await engine.commit(regenerating).setCookies.first).value
        #expect(Self.count(metrics, "sessionkit_sessions_regenerated", storage) == 1)
        #expect(try metrics.expectTimer("sessionkit_store_operation_duration", [("store", "memory"), ("operation", "rename")]).values.count == 1)

        // An unknown ID, and a malformed one.
        _ = try await engine.load(from: RequestCookies(header: "session=\(value)"))
        #expect(Self.count(metrics, "sessionkit_cookies_rejected", [("storage", "memory"), ("reason", "not_found")]) == 1)
        _ = try await engine.load(from: RequestCookies(header: "session=not-an-id"))
        #expect(Self.count(metrics, "sessionkit_cookies_rejected", [("storage", "memory"), ("reason", "malformed")]) == 1)

        // Invalidated: a timed delete.
        let ending = try await engine.load(from: RequestCookies(header: "session=\(renamed)"))
        ending.invalidate()
        _ = try await engine.commit(ending)
        #expect(Self.count(metrics, "sessionkit_sessions_invalidated", storage) == 1)
        #expect(try metrics.expectTimer("sessionkit_store_operation_duration", [("store", "memory"), ("operation", "delete")]).values.count == 1)

        // Expired: a record the store still returns, past its idle deadline by the engine's clock.
        let idle = try await Self.cookie(engine)
        clock.withLock { $0 += SessionConfiguration().idleTimeoutSeconds + 60 }
        _ = try await engine.load(from: RequestCookies(header: "session=\(idle)"))
        #expect(Self.count(metrics, "sessionkit_sessions_expired", storage) == 1)
        #expect(Self.count(metrics, "sessionkit_cookies_rejected", [("storage", "memory"), ("reason", "expired")]) == 1)
    }

    @Test func revokedSessions() async throws {
        let metrics = TestMetrics()
        let engine = Self.serverEngine(MemorySessionStore(clock: { Self.now }), metrics: metrics)
        for _ in 0..<2 {
            let session = try await engine.load(from: RequestCookies())
            session.login(userID: "42")
            _ = try await engine.commit(session)
        }
        #expect(try await engine.revokeSessions(ofUser: "42") == 2)
        #expect(Self.count(metrics, "sessionkit_sessions_revoked", [("storage", "memory")]) == 2)
        #expect(try metrics.expectTimer("sessionkit_store_operation_duration", [("store", "memory"), ("operation", "revoke")]).values.count == 1)
        // Cookie sessions have no store to revoke in.
        await #expect(throws: SessionError.self) { try await Self.cookieEngine(Self.keys, metrics: metrics).revokeSessions(ofUser: "42") }
    }

    @Test func storeErrorsAndTimeouts() async throws {
        let metrics = TestMetrics()
        let faulty = FaultInjectingSessionStore(MemorySessionStore(clock: { Self.now }))
        let engine = Self.serverEngine(faulty, metrics: metrics)
        let value = try await Self.cookie(engine)
        faulty.fail([.load])
        await #expect(throws: SessionError.self) { try await engine.load(from: RequestCookies(header: "session=\(value)")) }
        // The wrapper is named after the store it wraps.
        #expect(Self.count(metrics, "sessionkit_store_errors", [("store", "memory"), ("operation", "load"), ("error", "injectedFault")]) == 1)
        #expect(metrics.counterTotal(label: "sessionkit_store_timeouts") == 0)

        let timingOut = FaultInjectingSessionStore(MemorySessionStore(clock: { Self.now }), error: SessionStoreError(.unavailable, "the store did not answer within 500 ms"))
        let slowEngine = Self.serverEngine(timingOut, metrics: metrics)
        timingOut.fail([.create])
        let session = try await slowEngine.load(from: RequestCookies())
        session["user"] = "ada"
        await #expect(throws: SessionError.self) { try await slowEngine.commit(session) }
        #expect(Self.count(metrics, "sessionkit_store_errors", [("store", "memory"), ("operation", "create"), ("error", "unavailable")]) == 1)
        #expect(Self.count(metrics, "sessionkit_store_timeouts", [("store", "memory"), ("operation", "create")]) == 1)
        #expect(Self.count(metrics, "sessionkit_sessions_created", [("storage", "memory")]) == 1)  // the first engine's only
    }

    @Test func storeKinds() {
        #expect(SessionObservability.storeKind(of: MemorySessionStore()) == "memory")
        #expect(SessionObservability.storeKind(of: FaultInjectingSessionStore(MemorySessionStore())) == "memory")
    }
}
