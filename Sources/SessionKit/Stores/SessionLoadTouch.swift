/// What a store needs to extend a session's idle deadline while it loads it, so that a request that
/// only reads costs one store round trip even when the deadline is due to move
/// (``SessionStore/load(_:touchingIfDue:)``).
///
/// The engine moves a read-only session's idle deadline only once a fraction of its idle window
/// (`SessionConfiguration.touchFraction`) has passed since it was last extended. Which window
/// applies depends on the stored session: a permanent one (Flask's `session.permanent`, the value
/// `true` under ``permanentKey``) uses `permanentLifetime`, any other `idleTimeout`. The engine
/// cannot know which before loading, so it gives both: a session is **due** when its
/// ``StoredSession/lastSeenAt`` is at or before its threshold, and a due session's idle deadline
/// becomes its candidate deadline, capped by its absolute deadline, as ``SessionStore/touch(_:expiresAt:)`` does.
/// A session whose idle deadline is before ``now`` is never due: the engine's clock finds it
/// expired (the engine refuses it), even if the store's clock does not yet.
///
/// ```swift
/// // idleTimeout 2 h, permanentLifetime 31 days, touchFraction 0.1, at `now`:
/// let touch = SessionLoadTouch(now: now, idleWindow: 7200, permanentWindow: 31 * 86_400, touchFraction: 0.1)
/// // touch.expiresAt == now + 7200, touch.lastSeenThreshold == now - 720
/// if let loaded = try await store.load(key, touchingIfDue: touch) {
///     print(loaded.session.expiresAt, loaded.touched)    // the new deadline when touched
/// }
/// // In a store, with the session in hand:
/// if touch.isDue(session) { session.expiresAt = min(touch.deadline(for: session), session.absoluteExpiresAt) }
/// ```
public struct SessionLoadTouch: Sendable, Hashable {
    /// The engine's clock when the request began (Unix seconds). A store decides whether the
    /// session is live and what ``StoredSession/lastSeenAt`` becomes by its own clock, as in
    /// ``SessionStore/touch(_:expiresAt:)``.
    public var now: Int64
    /// The new idle deadline of a session that is not permanent (`now + idleTimeout`), before the
    /// cap by the session's absolute deadline.
    public var expiresAt: Int64
    /// The new idle deadline of a permanent session (`now + permanentLifetime`), before the cap.
    public var permanentExpiresAt: Int64
    /// A session that is not permanent is due when its `lastSeenAt <= lastSeenThreshold`
    /// (`now - touchFraction × idleTimeout`, rounded so that it matches the engine's own check).
    public var lastSeenThreshold: Int64
    /// A permanent session is due when its `lastSeenAt <= permanentLastSeenThreshold`.
    public var permanentLastSeenThreshold: Int64

    /// The session key that marks a permanent session (`"_permanent"`, as Flask names it) when its
    /// value is the JSON `true`.
    public static let permanentKey = "_permanent"

    /// A touch with the given deadlines and thresholds.
    public init(now: Int64, expiresAt: Int64, permanentExpiresAt: Int64, lastSeenThreshold: Int64, permanentLastSeenThreshold: Int64) {
        self.now = now
        self.expiresAt = expiresAt
        self.permanentExpiresAt = permanentExpiresAt
        self.lastSeenThreshold = lastSeenThreshold
        self.permanentLastSeenThreshold = permanentLastSeenThreshold
    }

    /// The touch the engine makes at `now` for the two idle windows (seconds) and the fraction of
    /// the window that must pass before a deadline moves: due exactly when
    /// `Double(now - lastSeenAt) >= Double(window) * touchFraction`.
    public init(now: Int64, idleWindow: Int64, permanentWindow: Int64, touchFraction: Double) {
        self.init(
            now: now,
            expiresAt: Self.adding(now, idleWindow),
            permanentExpiresAt: Self.adding(now, permanentWindow),
            lastSeenThreshold: Self.threshold(now: now, window: idleWindow, fraction: touchFraction),
            permanentLastSeenThreshold: Self.threshold(now: now, window: permanentWindow, fraction: touchFraction)
        )
    }

    /// Whether `values` mark a permanent session (``permanentKey`` holds the JSON `true`).
    public static func isPermanent(_ values: [String: SessionValue]) -> Bool {
        (try? values[permanentKey]?.flaskValue()) == .bool(true)
    }

    /// Whether `session`'s idle deadline is due to move: its `lastSeenAt` is at or before its
    /// window's threshold, and it has not expired by ``now`` (`expiresAt >= now`, as the engine
    /// counts a session live).
    public func isDue(_ session: StoredSession) -> Bool {
        session.expiresAt >= now
            && session.lastSeenAt <= (Self.isPermanent(session.values) ? permanentLastSeenThreshold : lastSeenThreshold)
    }

    /// The new idle deadline for `session` (its window's candidate, not yet capped by the
    /// session's absolute deadline).
    public func deadline(for session: StoredSession) -> Int64 {
        Self.isPermanent(session.values) ? permanentExpiresAt : expiresAt
    }

    /// The largest `lastSeenAt` for which `Double(now - lastSeenAt) >= Double(window) * fraction`.
    static func threshold(now: Int64, window: Int64, fraction: Double) -> Int64 {
        let wait = (Double(window) * fraction).rounded(.up)
        guard !wait.isNaN else { return .min }                      // the engine's check is never true
        if wait >= 9.0e18 { return .min }                           // never due
        if wait <= -9.0e18 { return .max }                          // always due
        let (result, overflow) = now.subtractingReportingOverflow(Int64(wait))
        return overflow ? (wait > 0 ? .min : .max) : result
    }

    private static func adding(_ now: Int64, _ window: Int64) -> Int64 {
        let (result, overflow) = now.addingReportingOverflow(window)
        return overflow ? .max : result
    }

    /// What ``SessionStore/load(_:touchingIfDue:)`` found: the session, as it is after the touch
    /// when there was one.
    ///
    /// ```swift
    /// guard let loaded = try await store.load(key, touchingIfDue: touch) else { return nil }
    /// if loaded.touched { /* loaded.session.expiresAt is the new deadline */ }
    /// ```
    public struct Loaded: Sendable, Equatable {
        /// The session; when ``touched``, with its new ``StoredSession/expiresAt`` and
        /// ``StoredSession/lastSeenAt`` (the time of the touch).
        public var session: StoredSession
        /// Whether the load moved the idle deadline (the session was due).
        public var touched: Bool

        public init(session: StoredSession, touched: Bool) {
            self.session = session
            self.touched = touched
        }
    }
}
