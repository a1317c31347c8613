/// Where server-side sessions live: small enough to implement in an afternoon, and checked by one
/// shared contract (`SessionKitTesting`) that every store runs unchanged.
///
/// Keys are ``SessionStorageKey``s (hashes of session IDs); a store never sees an ID. Times are Unix
/// seconds of the store's own clock, and a session is expired once `now >= expiresAt`. The rules:
///
/// - ``load(_:)`` returns `nil` for a session that is missing **or expired**; it throws only for
///   system errors (the engine then fails closed).
/// - Writes to a session that is missing, deleted or expired return `false` and never re-create it
///   (no resurrection after a logout racing a slow request).
/// - ``apply(_:to:expiresAt:)`` applies a key-level delta atomically, so concurrent requests that
///   change different keys both win.
/// - Every write caps `expiresAt` at the session's `absoluteExpiresAt`.
///
/// How the engine uses it: a request's session is read with ``load(_:touchingIfDue:)``, which
/// also moves the idle deadline when it is due (a throttled touch: once a fraction of the idle
/// window has passed, see ``SessionLoadTouch``), so a request that only reads costs one round trip;
/// a new session that gets values is ``create(_:_:)``d under a fresh ``SessionID``; a changed
/// session is updated with ``apply(_:to:expiresAt:)`` and its snapshot's delta; `regenerateID()` is
/// ``rename(_:to:)`` (then `apply` for changes made in the same request, or ``touch(_:expiresAt:)``);
/// `invalidate()` is ``delete(_:)``. A `false` from a write means the session is gone: the request
/// must not re-create it.
///
/// Only the six operations from ``load(_:)`` to ``removeExpired()`` must be written: the protocol
/// extension implements ``load(_:touchingIfDue:)`` as ``load(_:)`` then, when due,
/// ``touch(_:expiresAt:)``. A store that can do both in one round trip (one SQL statement, one
/// script) implements it itself; the contract checks both ways alike.
///
/// ```swift
/// let key = SessionID().storageKey
/// try await store.create(key, StoredSession(values: [:], createdAt: now, expiresAt: now + 1800, absoluteExpiresAt: now + 86_400))
/// _ = try await store.apply(.update(set: ["n": SessionValue(json: Array("1".utf8))], remove: []), to: key, expiresAt: now + 1800)
/// let stored = try await store.load(key)   // values ["n": 1]
/// ```
public protocol SessionStore: Sendable {
    /// The session stored under `key`, or `nil` when there is none or it has expired.
    func load(_ key: SessionStorageKey) async throws -> StoredSession?

    /// Stores a new session. Throws ``SessionStoreError/Code/alreadyExists`` when a live session
    /// has this key (an expired one is replaced).
    func create(_ key: SessionStorageKey, _ session: StoredSession) async throws

    /// Applies `delta` atomically, sets the idle deadline to `expiresAt` (capped by the absolute
    /// deadline) and `lastSeenAt` to now. Returns `false`, changing nothing, when the session is
    /// missing or expired.
    func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool

    /// Moves the idle deadline to `expiresAt` (capped by the absolute deadline) and `lastSeenAt` to
    /// now without rewriting the values. Returns `false` when the session is missing or expired.
    func touch(_ key: SessionStorageKey, expiresAt: Int64) async throws -> Bool

    /// The session stored under `key`, as ``load(_:)`` finds it, and, when it is due
    /// (``SessionLoadTouch/isDue(_:)``), its idle deadline moved to
    /// ``SessionLoadTouch/deadline(for:)`` capped by the absolute deadline, and `lastSeenAt` to now,
    /// as ``touch(_:expiresAt:)`` would: in one round trip where the store can. A session that is
    /// not due is not written at all. `nil` when the session is missing or expired (nothing is
    /// created), or when it disappeared before the touch.
    ///
    /// The default implementation calls ``load(_:)``, then ``touch(_:expiresAt:)`` when due.
    ///
    /// ```swift
    /// let touch = SessionLoadTouch(now: now, idleWindow: 7200, permanentWindow: 31 * 86_400, touchFraction: 0.1)
    /// let loaded = try await store.load(key, touchingIfDue: touch)    // nil, or the session and `touched`
    /// ```
    func load(_ key: SessionStorageKey, touchingIfDue touch: SessionLoadTouch) async throws -> SessionLoadTouch.Loaded?

    /// Deletes the session; deleting a missing session is not an error.
    func delete(_ key: SessionStorageKey) async throws

    /// Moves a live session to a new key (for `regenerateID()`): afterwards `old` is gone and
    /// `new` holds the data. Returns `false` when `old` is missing or expired; throws
    /// ``SessionStoreError/Code/alreadyExists`` when a live session has the key `new`.
    func rename(_ old: SessionStorageKey, to new: SessionStorageKey) async throws -> Bool

    /// Deletes every expired session and returns how many it deleted; live sessions are untouched.
    func removeExpired() async throws -> Int
}

extension SessionStore {
    /// ``load(_:)``, then ``touch(_:expiresAt:)`` when the session is due: two round trips when a
    /// touch is due, one otherwise. The session returned after a touch has the deadline the touch
    /// set and `lastSeenAt` ``SessionLoadTouch/now``.
    ///
    /// ```swift
    /// let loaded = try await store.load(key, touchingIfDue: touch)
    /// ```
    public func load(_ key: SessionStorageKey, touchingIfDue touch: SessionLoadTouch) async throws -> SessionLoadTouch.Loaded? {
        guard let session = try await load(key) else { return nil }
        return try await touchIfDue(key, loaded: session, with: touch)
    }

    /// The second half of the default ``load(_:touchingIfDue:)``, for a store that has loaded
    /// `session` without touching it: when it is due, ``touch(_:expiresAt:)`` (a second round
    /// trip), and the session with the deadline the touch set and `lastSeenAt`
    /// ``SessionLoadTouch/now``; `nil` when the session was deleted since the load (it is not
    /// brought back).
    ///
    /// ```swift
    /// guard let session = try await load(key) else { return nil }
    /// return try await touchIfDue(key, loaded: session, with: touch)
    /// ```
    public func touchIfDue(_ key: SessionStorageKey, loaded session: StoredSession, with touch: SessionLoadTouch) async throws -> SessionLoadTouch.Loaded? {
        guard touch.isDue(session) else { return SessionLoadTouch.Loaded(session: session, touched: false) }
        var session = session
        let expiresAt = min(touch.deadline(for: session), session.absoluteExpiresAt)
        guard try await self.touch(key, expiresAt: expiresAt) else { return nil }
        session.expiresAt = expiresAt
        session.lastSeenAt = touch.now
        return SessionLoadTouch.Loaded(session: session, touched: true)
    }
}
