import SessionKit

/// The rules every ``/SessionKit/SessionStore`` follows, as checks any test framework can run unchanged: each
/// check makes its stores with a factory that receives the clock to use, and throws a
/// ``ContractViolation`` when a rule is broken. Stores that are a ``/SessionKit/SessionUserIndex`` are also
/// checked for a consistent user index; for others that check passes trivially.
///
/// ```swift
/// @Suite struct MyStoreContractTests {
///     @Test(arguments: SessionStoreContract.allChecks)
///     func contract(_ check: SessionStoreContractCheck) async throws {
///         try await check.run { clock in try await MyStore(clock: clock) }
///     }
/// }
/// ```
public enum SessionStoreContract {
    /// Makes a fresh, empty store that reads time from the given clock (Unix seconds).
    public typealias Factory = @Sendable (_ clock: @escaping @Sendable () -> Int64) async throws -> any SessionStore

    /// Every check, in a stable order.
    public static let allChecks: [SessionStoreContractCheck] = [
        SessionStoreContractCheck("createAndLoad", createAndLoad),
        SessionStoreContractCheck("applyDelta", applyDelta),
        SessionStoreContractCheck("touch", touch),
        SessionStoreContractCheck("delete", delete),
        SessionStoreContractCheck("createOnExistingKeyFails", createOnExistingKeyFails),
        SessionStoreContractCheck("noResurrection", noResurrection),
        SessionStoreContractCheck("expiry", expiry),
        SessionStoreContractCheck("cleanup", cleanup),
        SessionStoreContractCheck("cleanupFollowsMovedDeadlines", cleanupFollowsMovedDeadlines),
        SessionStoreContractCheck("concurrentApplies", concurrentApplies),
        SessionStoreContractCheck("deleteRacingSlowUpdate", deleteRacingSlowUpdate),
        SessionStoreContractCheck("rename", rename),
        SessionStoreContractCheck("userIndex", userIndex),
    ] + operationChecks + loadTouchChecks

    static let idle: Int64 = 1800
    static let lifetime: Int64 = 86_400

    static func json(_ text: String) -> SessionValue { SessionValue(json: Array(text.utf8)) }

    static func newSession(
        _ context: SessionStoreContractContext, _ values: [String: SessionValue] = [:], userID: String? = nil,
        idle: Int64 = idle, userAgent: String? = "Contract/1.0", ipAddress: String? = "192.0.2.7"
    ) -> StoredSession {
        var values = values
        if let userID { values[StoredSession.userIDKey] = json("\"\(userID)\"") }
        let now = context.now
        return StoredSession(
            values: values, createdAt: now, expiresAt: now + idle, absoluteExpiresAt: now + lifetime,
            userAgent: userAgent, ipAddress: ipAddress
        )
    }

    static func jsonText(_ value: SessionValue?) -> String? {
        value.map { String(decoding: $0.jsonBytes, as: UTF8.self) }
    }

    static func describe(_ values: [String: SessionValue]?) -> String {
        guard let values else { return "nil" }
        return "[" + values.keys.sorted().map { "\($0): \(jsonText(values[$0]) ?? "")" }.joined(separator: ", ") + "]"
    }

    // MARK: Checks

    static func createAndLoad(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let key = SessionID().storageKey
        try context.expect(try await store.load(key) == nil, "load of an unknown key must be nil")
        let session = newSession(context, ["username": json("\"alice\""), "cart": json("[1,2,3]"), "é ✓": json("{\"a\":null}")])
        try await store.create(key, session)
        let loaded = try await store.load(key)
        try context.expect(loaded == session, "loaded \(String(describing: loaded)) differs from created \(session)")
        try context.expect(try await store.load(SessionID().storageKey) == nil, "another key must not load")
        let empty = newSession(context, [:], userAgent: nil, ipAddress: nil)
        let emptyKey = SessionID().storageKey
        try await store.create(emptyKey, empty)
        try context.expect(try await store.load(emptyKey) == empty, "an empty session must load as created")
    }

    static func applyDelta(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let key = SessionID().storageKey
        let session = newSession(context, ["a": json("1"), "b": json("2"), "c": json("3")])
        try await store.create(key, session)
        context.clock.advance(by: 10)

        let applied = try await store.apply(.update(set: ["a": json("10"), "d": json("\"four\"")], remove: ["b", "missing"]), to: key, expiresAt: context.now + idle)
        try context.expect(applied, "apply on a live session must return true")
        var loaded = try await store.load(key)
        try context.expect(describe(loaded?.values) == "[a: 10, c: 3, d: \"four\"]", "after update: \(describe(loaded?.values))")
        try context.expect(loaded?.lastSeenAt == context.now, "apply must set lastSeenAt to now, got \(String(describing: loaded?.lastSeenAt))")
        try context.expect(loaded?.expiresAt == context.now + idle, "apply must set expiresAt")
        try context.expect(loaded?.createdAt == session.createdAt, "apply must keep createdAt")
        try context.expect(loaded?.userAgent == session.userAgent && loaded?.ipAddress == session.ipAddress, "apply must keep user agent and address")

        // A Flask-typed value is stored as its JSON text.
        _ = try await store.apply(.update(set: ["f": SessionValue(flask: .string("x"))], remove: []), to: key, expiresAt: context.now + idle)
        loaded = try await store.load(key)
        try context.expect(jsonText(loaded?.values["f"]) == "\"x\"", "a Flask value must be stored as its JSON text")

        try context.expect(try await store.apply(.replaceAll(["z": json("true")]), to: key, expiresAt: context.now + idle), "replaceAll must return true")
        loaded = try await store.load(key)
        try context.expect(describe(loaded?.values) == "[z: true]", "after replaceAll: \(describe(loaded?.values))")

        try context.expect(try await store.apply(.replaceAll([:]), to: key, expiresAt: context.now + idle), "replaceAll with nothing must return true")
        loaded = try await store.load(key)
        try context.expect(loaded != nil && loaded!.values.isEmpty, "replaceAll([:]) keeps an empty session: \(describe(loaded?.values))")

        // The idle deadline never passes the absolute deadline.
        _ = try await store.apply(.update(set: [:], remove: []), to: key, expiresAt: context.now + 10 * lifetime)
        loaded = try await store.load(key)
        try context.expect(loaded?.expiresAt == session.absoluteExpiresAt, "apply must cap expiresAt at absoluteExpiresAt, got \(String(describing: loaded?.expiresAt))")
    }

    static func touch(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let key = SessionID().storageKey
        let session = newSession(context, ["a": json("1")], idle: 100)
        try await store.create(key, session)
        context.clock.advance(by: 60)
        try context.expect(try await store.touch(key, expiresAt: context.now + 100), "touch on a live session must return true")
        var loaded = try await store.load(key)
        try context.expect(loaded?.expiresAt == context.now + 100, "touch must move expiresAt")
        try context.expect(loaded?.lastSeenAt == context.now, "touch must set lastSeenAt to now")
        try context.expect(describe(loaded?.values) == "[a: 1]", "touch must keep the values: \(describe(loaded?.values))")
        context.clock.advance(by: 90)
        try context.expect(try await store.load(key) != nil, "a touched session must live until its new deadline")
        _ = try await store.touch(key, expiresAt: context.now + 10 * lifetime)
        loaded = try await store.load(key)
        try context.expect(loaded?.expiresAt == session.absoluteExpiresAt, "touch must cap expiresAt at absoluteExpiresAt")
    }

    static func delete(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let key = SessionID().storageKey
        let other = SessionID().storageKey
        try await store.create(key, newSession(context, ["a": json("1")]))
        try await store.create(other, newSession(context, ["b": json("2")]))
        try await store.delete(key)
        try context.expect(try await store.load(key) == nil, "a deleted session must not load")
        try context.expect(try await store.load(other) != nil, "delete must not touch another session")
        try await store.delete(key)
        try await store.delete(SessionID().storageKey)
    }

    static func createOnExistingKeyFails(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let key = SessionID().storageKey
        let original = newSession(context, ["a": json("1")], idle: 100)
        try await store.create(key, original)
        try await context.expectStoreError(.alreadyExists, "create on a live key") {
            try await store.create(key, newSession(context, ["b": json("2")]))
        }
        try context.expect(try await store.load(key) == original, "a failed create must leave the session unchanged")
        // An expired session's key can be used again.
        context.clock.advance(by: 100)
        let replacement = newSession(context, ["c": json("3")])
        try await store.create(key, replacement)
        try context.expect(try await store.load(key) == replacement, "create over an expired session must succeed")
    }

    static func noResurrection(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let missing = SessionID().storageKey
        try context.expect(!(try await store.apply(.update(set: ["a": json("1")], remove: []), to: missing, expiresAt: context.now + idle)), "apply on a missing session must return false")
        try context.expect(!(try await store.apply(.replaceAll(["a": json("1")]), to: missing, expiresAt: context.now + idle)), "replaceAll on a missing session must return false")
        try context.expect(!(try await store.touch(missing, expiresAt: context.now + idle)), "touch on a missing session must return false")
        try context.expect(try await store.load(missing) == nil, "apply or touch must not create a session")

        let deleted = SessionID().storageKey
        try await store.create(deleted, newSession(context, ["a": json("1")]))
        try await store.delete(deleted)
        try context.expect(!(try await store.apply(.update(set: ["b": json("2")], remove: []), to: deleted, expiresAt: context.now + idle)), "apply on a deleted session must return false")
        try context.expect(!(try await store.touch(deleted, expiresAt: context.now + idle)), "touch on a deleted session must return false")
        try context.expect(try await store.load(deleted) == nil, "a deleted session must stay deleted")

        let expired = SessionID().storageKey
        try await store.create(expired, newSession(context, ["a": json("1")], idle: 10))
        context.clock.advance(by: 10)
        try context.expect(!(try await store.apply(.update(set: ["b": json("2")], remove: []), to: expired, expiresAt: context.now + idle)), "apply on an expired session must return false")
        try context.expect(!(try await store.touch(expired, expiresAt: context.now + idle)), "touch on an expired session must return false")
        try context.expect(try await store.load(expired) == nil, "an expired session must stay expired")
    }

    static func expiry(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let key = SessionID().storageKey
        try await store.create(key, newSession(context, ["a": json("1")], idle: 100))
        context.clock.advance(by: 99)
        try context.expect(try await store.load(key) != nil, "a session must load before expiresAt")
        context.clock.advance(by: 1)
        try context.expect(try await store.load(key) == nil, "a session must not load at expiresAt")
        context.clock.advance(by: -1)
        // The absolute deadline wins over touches.
        let capped = SessionID().storageKey
        let start = context.now
        try await store.create(capped, StoredSession(values: [:], createdAt: start, expiresAt: start + 100, absoluteExpiresAt: start + 250))
        for _ in 0..<5 {
            context.clock.advance(by: 50)
            _ = try await store.touch(capped, expiresAt: context.now + 100)
        }
        try context.expect(context.now == start + 250, "clock")
        try context.expect(try await store.load(capped) == nil, "no touch may keep a session past its absolute deadline")
        // A creation already past its deadline never loads.
        let stillborn = SessionID().storageKey
        try await store.create(stillborn, StoredSession(values: [:], createdAt: context.now - 10, expiresAt: context.now, absoluteExpiresAt: context.now + 10))
        try context.expect(try await store.load(stillborn) == nil, "a session created with expiresAt == now must not load")
    }

    static func cleanup(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        var live: [SessionStorageKey] = []
        var idles: [Int64] = []
        for index in 0..<30 {
            let key = SessionID().storageKey
            let idle = Int64(10 + index * 10)   // 10, 20, ... 300 seconds
            try await store.create(key, newSession(context, ["i": json("\(index)")], userID: index % 3 == 0 ? "cleanup-user" : nil, idle: idle))
            live.append(key)
            idles.append(idle)
        }
        context.clock.advance(by: 150)   // the first 15 (10...150) are expired
        let removed = try await store.removeExpired()
        try context.expect(removed == 15, "removeExpired must report the 15 expired sessions, reported \(removed)")
        for (index, key) in live.enumerated() {
            let loaded = try await store.load(key)
            if idles[index] > 150 {
                try context.expect(jsonText(loaded?.values["i"]) == "\(index)", "live session \(index) must survive cleanup")
            } else {
                try context.expect(loaded == nil, "expired session \(index) must be gone")
            }
        }
        try context.expect(try await store.removeExpired() == 0, "a second cleanup must remove nothing")
        if let index = store as? any SessionUserIndex {
            let sessions = try await index.sessions(ofUser: "cleanup-user")
            try context.expect(sessions.count == 5, "the user index must drop cleaned-up sessions, lists \(sessions.count)")
        }
        context.clock.advance(by: 1000)
        try context.expect(try await store.removeExpired() == 15, "cleanup must remove the rest once expired")
    }

    /// Cleanup goes by each session's current deadline, after writes and touches moved it later
    /// (the session stays) or earlier (it goes at the new deadline), also after a cleanup looked at it.
    static func cleanupFollowsMovedDeadlines(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let start = context.now
        let written = SessionID().storageKey, touched = SessionID().storageKey
        let shortenedByWrite = SessionID().storageKey, shortenedByTouch = SessionID().storageKey
        try await store.create(written, newSession(context, ["w": json("1")], idle: 100))
        try await store.create(touched, newSession(context, ["t": json("1")], idle: 100))
        try await store.create(shortenedByWrite, newSession(context, ["s": json("1")], idle: 1000))
        try await store.create(shortenedByTouch, newSession(context, ["s": json("1")], idle: 1000))
        context.clock.advance(by: 50)
        let change = SessionDelta.update(set: ["w": json("2")], remove: [])
        try context.expect(try await store.apply(change, to: written, expiresAt: start + 250), "apply to a live session")
        try context.expect(try await store.touch(touched, expiresAt: start + 250), "touch of a live session")
        try context.expect(try await store.apply(change, to: shortenedByWrite, expiresAt: start + 100), "apply to a live session")
        try context.expect(try await store.touch(shortenedByTouch, expiresAt: start + 100), "touch of a live session")

        context.clock.advance(by: 60)   // start + 110: past the first deadlines of all four
        var removed = try await store.removeExpired()
        try context.expect(removed == 2, "cleanup must remove the two sessions whose deadline moved earlier, removed \(removed)")
        try context.expect(try await store.load(shortenedByWrite) == nil, "a session past its shortened deadline must be gone")
        try context.expect(try await store.load(shortenedByTouch) == nil, "a session past its shortened deadline must be gone")
        try context.expect(jsonText(try await store.load(written)?.values["w"]) == "2", "a session whose deadline moved later must survive cleanup")
        try context.expect(try await store.load(touched) != nil, "a session touched to a later deadline must survive cleanup")
        try context.expect(try await store.removeExpired() == 0, "a second cleanup must remove nothing")

        // Moved again, after a cleanup has looked at it.
        context.clock.advance(by: 100)  // start + 210
        try context.expect(try await store.touch(written, expiresAt: start + 310), "touch of a live session")
        context.clock.advance(by: 50)   // start + 260
        removed = try await store.removeExpired()
        try context.expect(removed == 1, "cleanup must remove only the session past its deadline, removed \(removed)")
        try context.expect(try await store.load(touched) == nil, "a session past its deadline must be gone")
        try context.expect(try await store.load(written) != nil, "a session touched again must survive cleanup")
        context.clock.advance(by: 60)   // start + 320
        removed = try await store.removeExpired()
        try context.expect(removed == 1, "cleanup must remove the last session once it expired, removed \(removed)")
    }

    static func concurrentApplies(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let key = SessionID().storageKey
        try await store.create(key, newSession(context, ["base": json("0")]))
        let expiresAt = context.now + idle
        let results = try await withThrowingTaskGroup(of: Bool.self, returning: [Bool].self) { group in
            for index in 0..<100 {
                group.addTask {
                    try await store.apply(.update(set: ["k\(index)": json("\(index)")], remove: []), to: key, expiresAt: expiresAt)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        try context.expect(results.allSatisfy { $0 }, "every concurrent apply must return true")
        let loaded = try await store.load(key)
        try context.expect(loaded?.values.count == 101, "100 concurrent applies of different keys must all survive, found \(loaded?.values.count ?? 0) values")
        for index in 0..<100 {
            try context.expect(jsonText(loaded?.values["k\(index)"]) == "\(index)", "key k\(index) lost")
        }
    }

    static func deleteRacingSlowUpdate(_ context: SessionStoreContractContext) async throws {
        let inner = try await context.makeStore()
        let slow = FaultInjectingSessionStore(inner)
        slow.hold([.apply, .touch])
        let key = SessionID().storageKey
        try await inner.create(key, newSession(context, ["a": json("1")]))
        let expiresAt = context.now + idle
        async let update = slow.apply(.update(set: ["b": json("2")], remove: []), to: key, expiresAt: expiresAt)
        async let touched = slow.touch(key, expiresAt: expiresAt)
        await slow.waitForHeldCalls(2)   // both writes are in flight...
        try await inner.delete(key)      // ...when a logout deletes the session
        slow.release()
        let (applied, wasTouched) = try await (update, touched)
        try context.expect(!applied, "a slow apply landing after a delete must return false")
        try context.expect(!wasTouched, "a slow touch landing after a delete must return false")
        try context.expect(try await inner.load(key) == nil, "the deleted session must stay deleted")

        // Many writers racing one delete: whatever the order, the session ends deleted.
        let raced = SessionID().storageKey
        try await inner.create(raced, newSession(context, ["a": json("1")]))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    _ = try await inner.apply(.update(set: ["k\(index)": json("1")], remove: []), to: raced, expiresAt: expiresAt)
                    _ = try await inner.touch(raced, expiresAt: expiresAt)
                }
                if index == 25 { group.addTask { try await inner.delete(raced) } }
            }
            try await group.waitForAll()
        }
        try context.expect(try await inner.load(raced) == nil, "writes racing a delete must not resurrect the session")
    }

    static func rename(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let old = SessionID().storageKey
        let new = SessionID().storageKey
        let session = newSession(context, ["cart": json("[\"apple\"]")])
        try await store.create(old, session)
        try context.expect(try await store.rename(old, to: new), "rename of a live session must return true")
        try context.expect(try await store.load(old) == nil, "the old key must be gone after rename")
        try context.expect(try await store.load(new) == session, "rename must keep the data and bookkeeping")
        try context.expect(!(try await store.apply(.update(set: ["x": json("1")], remove: []), to: old, expiresAt: context.now + idle)), "apply on the old key must return false")
        try context.expect(!(try await store.touch(old, expiresAt: context.now + idle)), "touch on the old key must return false")
        try context.expect(try await store.load(old) == nil, "the old key must stay unusable")
        try context.expect(!(try await store.rename(old, to: SessionID().storageKey)), "renaming the old key again must return false")
        try context.expect(!(try await store.rename(SessionID().storageKey, to: SessionID().storageKey)), "renaming a missing session must return false")
        try await context.expectStoreError(.alreadyExists, "create on the renamed key") {
            try await store.create(new, newSession(context))
        }
        let third = SessionID().storageKey
        try await store.create(third, newSession(context, ["t": json("3")]))
        try await context.expectStoreError(.alreadyExists, "rename onto a live key") {
            _ = try await store.rename(new, to: third)
        }
        try context.expect(try await store.load(new) == session, "a failed rename must keep the source")
        try context.expect(jsonText(try await store.load(third)?.values["t"]) == "3", "a failed rename must keep the target")
        // An expired session cannot be renamed.
        let expiring = SessionID().storageKey
        try await store.create(expiring, newSession(context, [:], idle: 5))
        context.clock.advance(by: 5)
        let target = SessionID().storageKey
        try context.expect(!(try await store.rename(expiring, to: target)), "renaming an expired session must return false")
        try context.expect(try await store.load(target) == nil, "renaming an expired session must not create the target")
    }

    static func userIndex(_ context: SessionStoreContractContext) async throws {
        guard let store = try await context.makeStore() as? any SessionUserIndex else { return }
        func keys(_ user: String) async throws -> Set<SessionStorageKey> {
            Set(try await store.sessions(ofUser: user).map(\.key))
        }
        let s1 = SessionID().storageKey, s2 = SessionID().storageKey, s3 = SessionID().storageKey
        try await store.create(s1, newSession(context, ["a": json("1")], userID: "u1", userAgent: "Agent One", ipAddress: "198.51.100.1"))
        context.clock.advance(by: 1)
        try await store.create(s2, newSession(context, [:], userID: "u1"))
        try await store.create(s3, newSession(context, [:], userID: "u2"))
        try await store.create(SessionID().storageKey, newSession(context, ["anonymous": json("true")]))
        let listed = try await store.sessions(ofUser: "u1")
        try context.expect(listed.map(\.key) == [s1, s2], "u1 must list s1 then s2 (oldest first), got \(listed.map(\.key))")
        try context.expect(listed.first?.userAgent == "Agent One" && listed.first?.ipAddress == "198.51.100.1", "the listing must carry user agent and address")
        try context.expect(listed.first?.createdAt == context.now - 1, "the listing must carry createdAt")
        try context.expect(try await store.load(s1)?.userID == "u1", "a loaded session must name its user")
        try context.expect(try await keys("nobody").isEmpty, "an unknown user has no sessions")

        // apply: move s2 to u2, then take the user off s3 and put it back.
        try context.expect(try await store.setUserID("u2", for: s2, expiresAt: context.now + idle), "setUserID on a live session")
        var u1 = try await keys("u1"), u2 = try await keys("u2")
        try context.expect(u1 == [s1] && u2 == [s2, s3], "apply must move s2 from u1 to u2")
        _ = try await store.apply(.update(set: [:], remove: [StoredSession.userIDKey]), to: s3, expiresAt: context.now + idle)
        try context.expect(try await keys("u2") == [s2], "removing the user key must drop s3 from the index")
        _ = try await store.apply(.replaceAll([StoredSession.userIDKey: json("\"u2\"")]), to: s3, expiresAt: context.now + idle)
        try context.expect(try await keys("u2") == [s2, s3], "replaceAll with a user key must index s3")
        _ = try await store.apply(.update(set: ["other": json("1")], remove: []), to: s3, expiresAt: context.now + idle)
        try context.expect(try await keys("u2") == [s2, s3], "an unrelated update must keep the index")
        _ = try await store.apply(.update(set: [StoredSession.userIDKey: json("7")], remove: []), to: s3, expiresAt: context.now + idle)
        let seven = try await keys("7")
        u2 = try await keys("u2")
        try context.expect(seven == [s3] && u2 == [s2], "an integer user ID must index as its decimal text")
        _ = try await store.apply(.update(set: [StoredSession.userIDKey: json("\"u2\"")], remove: []), to: s3, expiresAt: context.now + idle)

        // rename: the index follows the new key.
        let s4 = SessionID().storageKey
        try context.expect(try await store.rename(s1, to: s4), "rename s1 -> s4")
        u1 = try await keys("u1")
        try context.expect(u1 == [s4], "after rename u1 must list s4 only, got \(u1)")

        // delete
        try await store.delete(s4)
        try context.expect(try await keys("u1").isEmpty, "after delete u1 must have no sessions")

        // expiry: an expired session is never listed, and cleanup keeps the index consistent.
        let s5 = SessionID().storageKey
        try await store.create(s5, newSession(context, [:], userID: "u1", idle: 10))
        try context.expect(try await keys("u1") == [s5], "u1 must list s5")
        context.clock.advance(by: 10)
        try context.expect(try await keys("u1").isEmpty, "an expired session must not be listed")
        _ = try await store.removeExpired()
        try context.expect(try await keys("u1").isEmpty, "cleanup must leave no trace in the index")
        let s6 = SessionID().storageKey
        try await store.create(s5, newSession(context, [:], userID: "u3"))
        try await store.create(s6, newSession(context, [:], userID: "u1"))
        u1 = try await keys("u1")
        var u3 = try await keys("u3")
        try context.expect(u1 == [s6] && u3 == [s5], "a key reused after expiry must index its new user only")

        // revoke, keeping the current session.
        let revoked = try await store.revokeSessions(ofUser: "u2", except: s3)
        try context.expect(revoked == 1, "revoking u2 except s3 must revoke one session, revoked \(revoked)")
        try context.expect(try await store.load(s2) == nil, "a revoked session must not load")
        try context.expect(try await store.load(s3) != nil, "the excepted session must survive")
        try context.expect(try await keys("u2") == [s3], "after revoke u2 must list s3 only")
        try context.expect(try await store.revokeSessions(ofUser: "u2") == 1, "revoking all of u2 must revoke s3")
        u2 = try await keys("u2")
        try context.expect(try await store.load(s3) == nil && u2.isEmpty, "u2 must have nothing left")
        try context.expect(try await store.revokeSessions(ofUser: "nobody") == 0, "revoking an unknown user revokes nothing")
        u1 = try await keys("u1")
        u3 = try await keys("u3")
        try context.expect(u1 == [s6] && u3 == [s5], "revoke must not touch other users")
    }
}
