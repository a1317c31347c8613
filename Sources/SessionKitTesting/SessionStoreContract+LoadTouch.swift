import SessionKit

/// The contract's checks of ``/SessionKit/SessionStore/load(_:touchingIfDue:)``, the load that moves the idle
/// deadline when it is due: whether a store implements it itself (one round trip) or keeps the
/// protocol's default (load, then touch), it writes nothing when the session is not due, moves and
/// caps the deadline when it is, uses the permanent window for a permanent session, and never
/// creates or revives a session.
extension SessionStoreContract {
    static let loadTouchChecks: [SessionStoreContractCheck] = [
        SessionStoreContractCheck("loadTouchNotDue", loadTouchNotDue),
        SessionStoreContractCheck("loadTouchDue", loadTouchDue),
        SessionStoreContractCheck("loadTouchMissingOrExpired", loadTouchMissingOrExpired),
        SessionStoreContractCheck("loadTouchPermanentWindow", loadTouchPermanentWindow),
    ]

    /// The touch of an engine at the context's now with an idle window of 100 s, a permanent one of
    /// 1000 s and a touch fraction of 0.1: due after 10 s, or 100 s for a permanent session.
    static func loadTouch(_ context: SessionStoreContractContext, idle: Int64 = 100, permanent: Int64 = 1000) -> SessionLoadTouch {
        SessionLoadTouch(now: context.now, idleWindow: idle, permanentWindow: permanent, touchFraction: 0.1)
    }

    static func loadTouchNotDue(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let key = SessionID().storageKey
        let session = newSession(context, ["a": json("1")], idle: 100)
        try await store.create(key, session)
        context.clock.advance(by: 9)
        let loaded = try await store.load(key, touchingIfDue: loadTouch(context))
        try context.expect(loaded?.touched == false, "a session last seen 9 s ago is not due (10 s): touched \(String(describing: loaded?.touched))")
        try context.expect(loaded?.session == session, "a load that does not touch returns the session as stored: \(String(describing: loaded?.session))")
        let after = try await store.load(key)
        try context.expect(after == session, "a load that is not due must write nothing: \(String(describing: after))")
    }

    static func loadTouchDue(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let key = SessionID().storageKey
        let session = newSession(context, ["a": json("1"), "b": json("[\"x\"]")], idle: 100)
        try await store.create(key, session)
        context.clock.advance(by: 10)
        let touch = loadTouch(context)
        let loaded = try await store.load(key, touchingIfDue: touch)
        try context.expect(loaded?.touched == true, "a session last seen 10 s ago is due (10 s): touched \(String(describing: loaded?.touched))")
        try context.expect(loaded?.session.expiresAt == context.now + 100, "a due load must move expiresAt to now + 100, returned \(String(describing: loaded?.session.expiresAt))")
        try context.expect(loaded?.session.lastSeenAt == context.now, "a due load must set lastSeenAt to now, returned \(String(describing: loaded?.session.lastSeenAt))")
        try context.expect(describe(loaded?.session.values) == "[a: 1, b: [\"x\"]]", "a due load must return the values: \(describe(loaded?.session.values))")
        var stored = try await store.load(key)
        try context.expect(stored == loaded?.session, "the stored session must be what the touching load returned: \(String(describing: stored)) vs \(String(describing: loaded?.session))")
        try context.expect(stored?.createdAt == session.createdAt && stored?.userAgent == session.userAgent && stored?.ipAddress == session.ipAddress,
            "a touching load must keep createdAt, user agent and address")
        // Just touched: not due again.
        context.clock.advance(by: 5)
        let again = try await store.load(key, touchingIfDue: loadTouch(context))
        try context.expect(again?.touched == false && again?.session == stored, "a session touched 5 s ago is not due again")
        // The moved deadline holds: past the old one, before the new one.
        context.clock.advance(by: 90)
        try context.expect(try await store.load(key) != nil, "a session touched on load must live until its new deadline")
        // The idle deadline never passes the absolute deadline.
        let far = SessionLoadTouch(now: context.now, idleWindow: 10 * lifetime, permanentWindow: 10 * lifetime, touchFraction: 0)
        let capped = try await store.load(key, touchingIfDue: far)
        try context.expect(capped?.touched == true && capped?.session.expiresAt == session.absoluteExpiresAt,
            "a touching load must cap expiresAt at absoluteExpiresAt, returned \(String(describing: capped?.session.expiresAt))")
        stored = try await store.load(key)
        try context.expect(stored?.expiresAt == session.absoluteExpiresAt, "the stored deadline must be capped at absoluteExpiresAt, got \(String(describing: stored?.expiresAt))")
    }

    static func loadTouchMissingOrExpired(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let unknown = SessionID().storageKey
        let always = SessionLoadTouch(now: context.now, idleWindow: 100, permanentWindow: 1000, touchFraction: 0)
        try context.expect(try await store.load(unknown, touchingIfDue: always) == nil, "a touching load of an unknown key must be nil")
        try context.expect(try await store.load(unknown) == nil, "a touching load must create nothing")
        try await store.create(unknown, newSession(context, ["fresh": json("1")]))   // no live session was there

        let key = SessionID().storageKey
        try await store.create(key, newSession(context, ["a": json("1")], idle: 100))
        context.clock.advance(by: 100)    // now == expiresAt: expired
        let late = SessionLoadTouch(now: context.now, idleWindow: 100, permanentWindow: 1000, touchFraction: 0)
        try context.expect(try await store.load(key, touchingIfDue: late) == nil, "a touching load of an expired session must be nil")
        try context.expect(try await store.load(key) == nil, "a touching load must not revive an expired session")
        try context.expect(!(try await store.touch(key, expiresAt: context.now + 100)), "an expired session stays expired after a touching load")

        // Live by the store's clock but expired by the engine's (a clock ahead): not touched.
        let skewed = SessionID().storageKey
        let skewedSession = newSession(context, ["a": json("1")], idle: 100)
        try await store.create(skewed, skewedSession)
        let ahead = SessionLoadTouch(now: context.now + 101, idleWindow: 100, permanentWindow: 1000, touchFraction: 0)
        let found = try await store.load(skewed, touchingIfDue: ahead)
        try context.expect(found?.touched == false && found?.session == skewedSession,
            "a session expired by the touch's clock (expiresAt < now) must not be touched: \(String(describing: found))")

        let deleted = SessionID().storageKey
        try await store.create(deleted, newSession(context, ["a": json("1")]))
        try await store.delete(deleted)
        try context.expect(try await store.load(deleted, touchingIfDue: late) == nil, "a touching load of a deleted session must be nil")
        try context.expect(try await store.load(deleted) == nil, "a touching load must not resurrect a deleted session")
    }

    static func loadTouchPermanentWindow(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let permanent = SessionID().storageKey
        let notPermanent = SessionID().storageKey
        let session = newSession(context, [SessionLoadTouch.permanentKey: SessionValue(flask: .bool(true)), "a": json("1")], idle: 1000)
        try await store.create(permanent, session)
        try await store.create(notPermanent, newSession(context, [SessionLoadTouch.permanentKey: json("false")], idle: 1000))
        // 50 s: due for the idle window (10 s), not for the permanent one (100 s).
        context.clock.advance(by: 50)
        let early = try await store.load(permanent, touchingIfDue: loadTouch(context))
        try context.expect(early?.touched == false && early?.session == session,
            "a permanent session is due only after a fraction of the permanent window: touched \(String(describing: early?.touched))")
        let plain = try await store.load(notPermanent, touchingIfDue: loadTouch(context))
        try context.expect(plain?.touched == true && plain?.session.expiresAt == context.now + 100,
            "`_permanent: false` is not permanent: the idle window applies, got \(String(describing: plain?.session.expiresAt))")
        // Permanence is the JSON `true` under `_permanent`, decided as SessionLoadTouch.isPermanent does.
        for values in [
            [SessionLoadTouch.permanentKey: json(" \ttrue\n")], [SessionLoadTouch.permanentKey: json("\"true\"")],
            [SessionLoadTouch.permanentKey: json("1")], ["x\n_permanent": json("true")], ["_permanent_": json("true")],
        ] {
            let key = SessionID().storageKey
            try await store.create(key, StoredSession(values: values, createdAt: context.now - 50, expiresAt: context.now + 950, absoluteExpiresAt: context.now + lifetime))
            let loaded = try await store.load(key, touchingIfDue: loadTouch(context))
            try context.expect(loaded?.touched == !SessionLoadTouch.isPermanent(values),
                "\(describe(values)) is \(SessionLoadTouch.isPermanent(values) ? "" : "not ")permanent: touched \(String(describing: loaded?.touched))")
        }
        // 100 s: due; the new deadline is the permanent window's.
        context.clock.advance(by: 50)
        let due = try await store.load(permanent, touchingIfDue: loadTouch(context))
        try context.expect(due?.touched == true && due?.session.expiresAt == context.now + 1000 && due?.session.lastSeenAt == context.now,
            "a due permanent session moves to now + the permanent window, got \(String(describing: due?.session.expiresAt))")
        let stored = try await store.load(permanent)
        try context.expect(stored?.expiresAt == context.now + 1000, "the stored deadline must be the permanent window's, got \(String(describing: stored?.expiresAt))")
    }
}
