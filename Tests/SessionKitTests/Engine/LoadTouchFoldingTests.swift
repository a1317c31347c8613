import Foundation
import Logging
import SessionKitTesting
import Synchronization
import Testing
@testable import SessionKit

/// The throttled touch folded into the load (``SessionStore/load(_:touchingIfDue:)``): a request
/// that only reads makes one store call even when the idle deadline is due to move, with a store
/// that folds; the protocol's default still makes a load and a touch; nothing is touched twice,
/// and a `regenerateID()` still touches the new key. Default configuration: idle window 2 hours
/// (due after 720 s), permanent window 31 days (due after 267,840 s).
@Suite("Touch folded into the load")
struct LoadTouchFoldingTests {
    /// Counts every call it gets, by name, and forwards to a memory store. With `folds`, it
    /// implements the touching load itself, as one call.
    final class CountingStore: SessionStore, @unchecked Sendable {
        let base: MemorySessionStore
        private let log = Mutex<[String]>([])

        init(clock: ContractClock) { base = MemorySessionStore(clock: clock.function) }

        var calls: [String] { log.withLock { $0 } }
        func reset() { log.withLock { $0 = [] } }
        func record(_ call: String) { log.withLock { $0.append(call) } }

        func load(_ key: SessionStorageKey) async throws -> StoredSession? { record("load"); return try await base.load(key) }
        func create(_ key: SessionStorageKey, _ session: StoredSession) async throws { record("create"); try await base.create(key, session) }
        func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
            record("apply"); return try await base.apply(delta, to: key, expiresAt: expiresAt)
        }
        func touch(_ key: SessionStorageKey, expiresAt: Int64) async throws -> Bool { record("touch"); return try await base.touch(key, expiresAt: expiresAt) }
        func delete(_ key: SessionStorageKey) async throws { record("delete"); try await base.delete(key) }
        func rename(_ old: SessionStorageKey, to new: SessionStorageKey) async throws -> Bool { record("rename"); return try await base.rename(old, to: new) }
        func removeExpired() async throws -> Int { record("removeExpired"); return try await base.removeExpired() }
    }

    /// A store that folds the touch into its load: one call (the memory store's default, uncounted).
    final class FoldingStore: SessionStore, @unchecked Sendable {
        let counting: CountingStore
        init(clock: ContractClock) { counting = CountingStore(clock: clock) }

        var calls: [String] { counting.calls }
        func reset() { counting.reset() }

        func load(_ key: SessionStorageKey, touchingIfDue touch: SessionLoadTouch) async throws -> SessionLoadTouch.Loaded? {
            counting.record("loadTouchingIfDue")
            return try await counting.base.load(key, touchingIfDue: touch)
        }
        func load(_ key: SessionStorageKey) async throws -> StoredSession? { try await counting.load(key) }
        func create(_ key: SessionStorageKey, _ session: StoredSession) async throws { try await counting.create(key, session) }
        func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
            try await counting.apply(delta, to: key, expiresAt: expiresAt)
        }
        func touch(_ key: SessionStorageKey, expiresAt: Int64) async throws -> Bool { try await counting.touch(key, expiresAt: expiresAt) }
        func delete(_ key: SessionStorageKey) async throws { try await counting.delete(key) }
        func rename(_ old: SessionStorageKey, to new: SessionStorageKey) async throws -> Bool { try await counting.rename(old, to: new) }
        func removeExpired() async throws -> Int { try await counting.removeExpired() }
    }

    static func engine(_ store: any SessionStore, clock: ContractClock) -> SessionEngine {
        SessionEngine(storage: .server(store), configuration: SessionConfiguration(), logger: Logger(label: "test"), clock: clock.function)
    }

    /// A request carrying `cookie` that reads `key`, then commits; returns the commit.
    static func read(_ engine: SessionEngine, _ cookie: String, _ key: String = "user") async throws -> (String?, SessionCommit) {
        let session = try await engine.load(from: RequestCookies(header: "session=\(cookie)"))
        let value = session[key, as: String.self]
        return (value, try await engine.commit(session))
    }

    static func newSession(_ engine: SessionEngine, permanent: Bool = false) async throws -> String {
        let session = try await engine.load(from: RequestCookies())
        session["user"] = "ada"
        if permanent { session.isPermanent = true }
        return try #require(try await engine.commit(session).setCookies.first).value
    }

    @Test func aDueReadIsOneCallWithAFoldingStore() async throws {
        let clock = ContractClock()
        let store = FoldingStore(clock: clock)
        let engine = Self.engine(store, clock: clock)
        let cookie = try await Self.newSession(engine)
        let key = try #require(SessionID(cookieValue: cookie)).storageKey
        store.reset()
        clock.advance(by: 719)
        #expect(try await Self.read(engine, cookie).0 == "ada")
        #expect(store.calls == ["loadTouchingIfDue"], "not due: one call, nothing written")
        #expect(try await store.counting.base.load(key)?.lastSeenAt == clock.now - 719)
        store.reset()
        clock.advance(by: 1)
        let (value, commit) = try await Self.read(engine, cookie)
        #expect(value == "ada")
        #expect(store.calls == ["loadTouchingIfDue"], "due: still one call, the touch folded in: \(store.calls)")
        #expect(commit.setCookies.isEmpty, "a session cookie (not permanent) is not re-sent for a touch")
        let stored = try #require(try await store.counting.base.load(key))
        #expect(stored.lastSeenAt == clock.now && stored.expiresAt == clock.now + 7200)
        // The deadline moved: alive 7,000 s later, which the first deadline would not have allowed.
        clock.advance(by: 7000)
        store.reset()
        #expect(try await Self.read(engine, cookie).0 == "ada")
        #expect(store.calls == ["loadTouchingIfDue"])
    }

    @Test func theDefaultImplementationStillLoadsThenTouches() async throws {
        let clock = ContractClock()
        let store = CountingStore(clock: clock)
        let engine = Self.engine(store, clock: clock)
        let cookie = try await Self.newSession(engine)
        store.reset()
        clock.advance(by: 100)
        #expect(try await Self.read(engine, cookie).0 == "ada")
        #expect(store.calls == ["load"], "not due: a load only")
        store.reset()
        clock.advance(by: 700)
        #expect(try await Self.read(engine, cookie).0 == "ada")
        #expect(store.calls == ["load", "touch"], "due: the default loads, then touches, and the commit touches no more: \(store.calls)")
        store.reset()
        clock.advance(by: 10)
        _ = try await Self.read(engine, cookie)
        #expect(store.calls == ["load"], "touched 10 s ago: not due again")
    }

    @Test func aRegenerateIDStillTouchesTheNewKey() async throws {
        let clock = ContractClock()
        let store = FoldingStore(clock: clock)
        let engine = Self.engine(store, clock: clock)
        let cookie = try await Self.newSession(engine)
        clock.advance(by: 1000)   // due
        store.reset()
        let session = try await engine.load(from: RequestCookies(header: "session=\(cookie)"))
        session.regenerateID()
        let commit = try await engine.commit(session)
        #expect(store.calls == ["loadTouchingIfDue", "rename", "touch"], "\(store.calls)")
        let newCookie = try #require(commit.setCookies.first)
        let newKey = try #require(SessionID(cookieValue: newCookie.value)).storageKey
        let stored = try #require(try await store.counting.base.load(newKey))
        #expect(stored.expiresAt == clock.now + 7200 && stored.values["user"] != nil)
    }

    @Test func aWriteAfterATouchingLoadStillApplies() async throws {
        let clock = ContractClock()
        let store = FoldingStore(clock: clock)
        let engine = Self.engine(store, clock: clock)
        let cookie = try await Self.newSession(engine)
        clock.advance(by: 1000)
        store.reset()
        let session = try await engine.load(from: RequestCookies(header: "session=\(cookie)"))
        session["cart"] = "book"
        _ = try await engine.commit(session)
        #expect(store.calls == ["loadTouchingIfDue", "apply"], "\(store.calls)")
    }

    @Test func aPermanentSessionUsesItsWindowAndItsCookieFollowsTheFoldedTouch() async throws {
        let clock = ContractClock()
        let store = FoldingStore(clock: clock)
        let engine = Self.engine(store, clock: clock)
        let cookie = try await Self.newSession(engine, permanent: true)
        let key = try #require(SessionID(cookieValue: cookie)).storageKey
        // Due for a 2-hour window, not for the 31-day one: nothing written, no cookie.
        clock.advance(by: 3600)
        store.reset()
        var (value, commit) = try await Self.read(engine, cookie)
        #expect(value == "ada" && store.calls == ["loadTouchingIfDue"])
        #expect(commit.setCookies.isEmpty)
        #expect(try await store.counting.base.load(key)?.lastSeenAt == clock.now - 3600)
        // Due for the 31-day window: one call; the cookie's Expires slides to the new deadline.
        clock.advance(by: 267_840 - 3600)
        store.reset()
        (value, commit) = try await Self.read(engine, cookie)
        #expect(value == "ada" && store.calls == ["loadTouchingIfDue"], "\(store.calls)")
        let stored = try #require(try await store.counting.base.load(key))
        #expect(stored.expiresAt == clock.now + 31 * 86_400)
        let reissued = try #require(commit.setCookies.first)
        #expect(reissued.value == cookie)
        #expect(reissued.expires == SessionClock.date(stored.expiresAt))
    }

    @Test func thresholdsMatchTheEnginesCheck() {
        for (window, fraction) in [(7200, 0.1), (1000, 0.1), (3, 0.5), (100, 0.0), (100, 1.0), (7, 0.3333)] as [(Int64, Double)] {
            let touch = SessionLoadTouch(now: 1_000_000, idleWindow: window, permanentWindow: window, touchFraction: fraction)
            for lastSeen in (1_000_000 - window - 2)...1_000_001 {
                let engine = Double(1_000_000 - lastSeen) >= Double(window) * fraction
                #expect((lastSeen <= touch.lastSeenThreshold) == engine, "window \(window), fraction \(fraction), last seen \(lastSeen)")
            }
        }
        let never = SessionLoadTouch(now: 1_000_000, idleWindow: .max, permanentWindow: 100, touchFraction: .infinity)
        #expect(never.lastSeenThreshold == .min && never.expiresAt == .max)
        #expect(SessionLoadTouch(now: 0, idleWindow: 10, permanentWindow: 10, touchFraction: .nan).lastSeenThreshold == .min)
    }
}
