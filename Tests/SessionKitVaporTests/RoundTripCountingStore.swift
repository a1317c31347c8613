import SessionKit
import Synchronization

/// A store that counts each kind of call it forwards, the folded load-and-touch
/// (`load(_:touchingIfDue:)`) apart from a plain load: how many round trips a request costs a
/// store that folds the touch into the load (PostgreSQL, SQLite, the memory store).
///
/// ```swift
/// let store = RoundTripCountingStore(MemorySessionStore())
/// _ = try await store.load(key, touchingIfDue: touch)
/// #expect(store.counts == ["loadTouch": 1])
/// ```
final class RoundTripCountingStore: SessionStore {
    let base: any SessionStore
    private let calls = Mutex<[String: Int]>([:])

    init(_ base: any SessionStore) { self.base = base }

    /// The calls since the last ``reset()``, by name.
    var counts: [String: Int] { calls.withLock { $0 } }

    func reset() { calls.withLock { $0 = [:] } }

    private func count(_ name: String) { calls.withLock { $0[name, default: 0] += 1 } }

    func load(_ key: SessionStorageKey) async throws -> StoredSession? {
        count("load")
        return try await base.load(key)
    }

    func load(_ key: SessionStorageKey, touchingIfDue touch: SessionLoadTouch) async throws -> SessionLoadTouch.Loaded? {
        count("loadTouch")
        return try await base.load(key, touchingIfDue: touch)
    }

    func create(_ key: SessionStorageKey, _ session: StoredSession) async throws {
        count("create")
        try await base.create(key, session)
    }

    func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        count("apply")
        return try await base.apply(delta, to: key, expiresAt: expiresAt)
    }

    func touch(_ key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        count("touch")
        return try await base.touch(key, expiresAt: expiresAt)
    }

    func delete(_ key: SessionStorageKey) async throws {
        count("delete")
        try await base.delete(key)
    }

    func rename(_ old: SessionStorageKey, to new: SessionStorageKey) async throws -> Bool {
        count("rename")
        return try await base.rename(old, to: new)
    }

    func removeExpired() async throws -> Int {
        count("removeExpired")
        return try await base.removeExpired()
    }
}
