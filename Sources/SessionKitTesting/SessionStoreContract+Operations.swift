import SessionKit

/// The contract's checks of atomic per-key operations (``/SessionKit/SessionOperation``): each kind gives the
/// same result in every store, and concurrent operations on one key all survive.
extension SessionStoreContract {
    static let operationChecks: [SessionStoreContractCheck] = [
        SessionStoreContractCheck("operationsApplyInPlace", operationsApplyInPlace),
        SessionStoreContractCheck("concurrentOperationsOnOneKey", concurrentOperationsOnOneKey),
        SessionStoreContractCheck("operationsNeverResurrect", operationsNeverResurrect),
    ]

    static func operate(_ operations: [SessionOperation], set: [String: SessionValue] = [:], remove: Set<String> = []) -> SessionDelta {
        .updateApplying(set: set, remove: remove, operations: operations)
    }

    static func flask(_ value: SessionValue?) -> FlaskValue? {
        value.flatMap { try? $0.flaskValue() }
    }

    /// A dictionary's entries by key, whatever their order.
    static func fields(_ value: SessionValue?) -> [String: FlaskValue]? {
        guard case .dict(let entries)? = flask(value) else { return nil }
        return Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
    }

    static func operationsApplyInPlace(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let key = SessionID().storageKey
        try await store.create(key, newSession(context, [
            "n": json("40"), "list": json("[\"a\",\"b\",\"a\"]"), "cart": json("{\"apple\":2,\"pear\":1}"),
            "text": json("\"not a number\""), "keep": json("\"kept\""),
        ]))
        let expiresAt = context.now + idle
        let s = { (text: String) in SessionValue(flask: .string(text)) }
        let delta = operate([
            SessionOperation(key: "n", kind: .increment(by: 2)),
            SessionOperation(key: "missing", kind: .increment(by: -3)),
            SessionOperation(key: "text", kind: .increment(by: 5)),
            SessionOperation(key: "list", kind: .append(s("c"))),
            SessionOperation(key: "list", kind: .removeAll(s("a"))),
            SessionOperation(key: "list", kind: .insert(s("b"))),
            SessionOperation(key: "list", kind: .insert(s("d"))),
            SessionOperation(key: "fresh", kind: .append(SessionValue(flask: .int(7)))),
            SessionOperation(key: "cart", kind: .incrementField("apple", by: 3)),
            SessionOperation(key: "cart", kind: .incrementField("pear", by: -1)),
            SessionOperation(key: "cart", kind: .incrementField("plum", by: 1)),
            SessionOperation(key: "prefs", kind: .setField("theme", s("dark"))),
            SessionOperation(key: "prefs", kind: .setField("lang", s("fr"))),
            SessionOperation(key: "prefs", kind: .removeField("lang")),
        ], set: ["plain": json("1")], remove: ["gone"])
        try context.expect(try await store.apply(delta, to: key, expiresAt: expiresAt), "apply with operations to a live session")
        let values = try await store.load(key)?.values ?? [:]
        try context.expect(flask(values["n"]) == .int(42), "increment: expected 42, found \(jsonText(values["n"]) ?? "nil")")
        try context.expect(flask(values["missing"]) == .int(-3), "increment of a missing key: expected -3, found \(jsonText(values["missing"]) ?? "nil")")
        try context.expect(flask(values["text"]) == .int(5), "increment of a string counts it as 0: expected 5, found \(jsonText(values["text"]) ?? "nil")")
        try context.expect(flask(values["list"]) == .list([.string("b"), .string("c"), .string("d")]),
            "append, removeAll, insert: expected [b, c, d], found \(jsonText(values["list"]) ?? "nil")")
        try context.expect(flask(values["fresh"]) == .list([.int(7)]), "append to a missing key: expected [7], found \(jsonText(values["fresh"]) ?? "nil")")
        try context.expect(fields(values["cart"]) == ["apple": .int(5), "plum": .int(1)],
            "incrementField: expected apple 5, plum 1 and no pear, found \(jsonText(values["cart"]) ?? "nil")")
        try context.expect(fields(values["prefs"]) == ["theme": .string("dark")], "setField, removeField: found \(jsonText(values["prefs"]) ?? "nil")")
        try context.expect(jsonText(values["plain"]) == "1" && values["gone"] == nil && jsonText(values["keep"]) == "\"kept\"",
            "the delta's sets and removes apply beside the operations, other keys stay")

        // The user ID cannot be changed by an operation (the user index follows assignments).
        do {
            _ = try await store.apply(operate([SessionOperation(key: StoredSession.userIDKey, kind: .increment(by: 1))]), to: key, expiresAt: expiresAt)
            try context.expect(false, "an operation on _user_id must throw invalidOperation")
        } catch let error as SessionStoreError {
            try context.expect(error.code == .invalidOperation, "an operation on _user_id must throw invalidOperation, threw \(error)")
        }
    }

    /// 200 concurrent requests each add one item to one cart and bump one counter: all 200 count.
    static func concurrentOperationsOnOneKey(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let key = SessionID().storageKey
        try await store.create(key, newSession(context, ["cart": json("{}")]))
        let expiresAt = context.now + idle
        let results = try await withThrowingTaskGroup(of: Bool.self, returning: [Bool].self) { group in
            for index in 0..<200 {
                group.addTask {
                    let item = index % 2 == 0 ? "apple" : "pear"
                    return try await store.apply(operate([
                        SessionOperation(key: "cart", kind: .incrementField(item, by: 1)),
                        SessionOperation(key: "adds", kind: .increment(by: 1)),
                        SessionOperation(key: "seen", kind: .append(SessionValue(flask: .int(index)))),
                    ]), to: key, expiresAt: expiresAt)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        try context.expect(results.allSatisfy { $0 }, "every concurrent apply must return true")
        let values = try await store.load(key)?.values ?? [:]
        try context.expect(fields(values["cart"]) == ["apple": .int(100), "pear": .int(100)],
            "200 concurrent cart additions must all survive: found \(jsonText(values["cart"]) ?? "nil")")
        try context.expect(flask(values["adds"]) == .int(200), "200 concurrent increments must add up to 200: found \(jsonText(values["adds"]) ?? "nil")")
        guard case .list(let seen)? = flask(values["seen"]) else { return try context.expect(false, "the appended list is missing") }
        let numbers = Set(seen.compactMap { if case .int(let n) = $0 { n } else { nil } })
        try context.expect(seen.count == 200 && numbers == Set(0..<200), "200 concurrent appends must all survive: found \(seen.count)")
    }

    /// An operation on a deleted or expired session changes nothing and re-creates nothing.
    static func operationsNeverResurrect(_ context: SessionStoreContractContext) async throws {
        let store = try await context.makeStore()
        let key = SessionID().storageKey
        try await store.create(key, newSession(context, ["n": json("1")], idle: 10))
        try await store.delete(key)
        let increment = operate([SessionOperation(key: "n", kind: .increment(by: 1))])
        try context.expect(try await store.apply(increment, to: key, expiresAt: context.now + idle) == false, "an operation on a deleted session must return false")
        try context.expect(try await store.load(key) == nil, "an operation must not re-create a deleted session")
        let expiring = SessionID().storageKey
        try await store.create(expiring, newSession(context, ["n": json("1")], idle: 10))
        context.clock.advance(by: 11)
        try context.expect(try await store.apply(increment, to: expiring, expiresAt: context.now + idle) == false, "an operation on an expired session must return false")
        try context.expect(try await store.load(expiring) == nil, "an operation must not revive an expired session")
    }
}
