import Testing
@testable import SessionKit

/// Atomic per-key operations on the session: what the handler reads at once, and what the engine
/// hands the store (an operation, or an assignment where an operation would be wrong).
@Suite("Session operations")
struct SessionOperationTests {
    static func loaded(_ values: [String: String]) -> Session {
        Session(data: SessionData(values: values.mapValues { SessionValue(json: Array($0.utf8)) }))
    }

    @Test func theHandlerReadsTheResultAtOnce() throws {
        let session = Self.loaded(["n": "1", "cart": #"{"apple":1}"#])
        session.increment("n", by: 2)
        session.incrementField("apple", in: "cart")
        session.incrementField("tea", by: 3, in: "cart")
        try session.append("a", to: "list")
        try session.insert("a", intoSet: "list")
        try session.insert("b", intoSet: "list")
        try session.removeAll("a", from: "list")
        try session.setField("theme", to: "dark", in: "prefs")
        #expect(session["n", as: Int.self] == 3)
        #expect(session["cart", as: [String: Int].self] == ["apple": 2, "tea": 3])
        #expect(session["list", as: [String].self] == ["b"])
        #expect(session["prefs", as: [String: String].self] == ["theme": "dark"])
        session.incrementField("apple", by: -2, in: "cart")
        #expect(session["cart", as: [String: Int].self] == ["tea": 3], "a count at zero is removed")
        session.removeField("theme", from: "prefs")
        #expect(session["prefs", as: [String: String].self] == [:])
    }

    @Test func operationsReachTheStoreAsOperations() throws {
        let session = Self.loaded(["n": "1"])
        session.increment("n")
        session["name"] = "alice"
        let snapshot = session.snapshot()
        #expect(snapshot.modified)
        guard case .updateApplying(let set, let remove, let operations) = snapshot.delta else {
            Issue.record("expected operations, got \(snapshot.delta)")
            return
        }
        #expect(Set(set.keys) == ["name"] && remove.isEmpty)
        #expect(operations == [SessionOperation(key: "n", kind: .increment(by: 1))])
        #expect(!snapshot.changedKeys.contains("n"), "an operated key is not also assigned")
    }

    @Test func anAssignmentAfterAnOperationWins() {
        let session = Self.loaded(["n": "1"])
        session.increment("n")
        session["n"] = 10
        guard case .update(let set, _) = session.snapshot().delta else {
            Issue.record("expected a plain update")
            return
        }
        #expect(set["n"].map { String(decoding: $0.jsonBytes, as: UTF8.self) } == "10")
    }

    @Test func anOperationAfterAnAssignmentIsAnAssignment() {
        let session = Self.loaded([:])
        session["n"] = 10
        session.increment("n")
        guard case .update(let set, _) = session.snapshot().delta else {
            Issue.record("expected a plain update")
            return
        }
        #expect(set["n"].map { String(decoding: $0.jsonBytes, as: UTF8.self) } == "11")
    }

    @Test func removingAKeyDropsItsOperations() {
        let session = Self.loaded(["n": "1"])
        session.increment("n")
        session.remove("n")
        guard case .update(let set, let remove) = session.snapshot().delta else {
            Issue.record("expected a plain update")
            return
        }
        #expect(set.isEmpty && remove == ["n"])
    }

    @Test func clearInvalidateAndReservedKeysTakeAssignments() {
        let cleared = Self.loaded(["n": "1"])
        cleared.increment("n")
        cleared.clear()
        cleared.increment("m")
        guard case .replaceAll(let values) = cleared.snapshot().delta else {
            Issue.record("expected a replacement")
            return
        }
        #expect(Set(values.keys) == ["m"])

        let user = Self.loaded([:])
        user.increment(StoredSession.userIDKey)
        #expect(user.snapshot().operations.isEmpty, "the user index follows assignments of _user_id only")
        #expect(user.snapshot().changedKeys == [StoredSession.userIDKey])
    }

    @Test func flashesAreAppendedAtomically() {
        let session = Self.loaded([:])
        session.flash("one")
        session.flash("two", category: "error")
        #expect(session.snapshot().operations.count == 2)
        #expect(session.consumeFlashes() == [FlashMessage(text: "one"), FlashMessage(category: "error", text: "two")])
        #expect(session.snapshot().operations.isEmpty, "consuming removes the key and its pending appends")
    }

    @Test func theWireFormRoundTrips() throws {
        let operations: [SessionOperation] = [
            SessionOperation(key: "n", kind: .increment(by: -5)),
            SessionOperation(key: "l", kind: .append(SessionValue(flask: .list([.int(1), .string("x\"y")])))),
            SessionOperation(key: "l", kind: .insert(SessionValue(flask: .null))),
            SessionOperation(key: "l", kind: .removeAll(SessionValue(flask: .bool(true)))),
            SessionOperation(key: "é", kind: .setField("f", SessionValue(flask: .dict([FlaskDictEntry("a", .double(1.5))])))),
            SessionOperation(key: "d", kind: .removeField("f")),
            SessionOperation(key: "c", kind: .incrementField("apple", by: Int.max)),
        ]
        let decoded = try SessionOperationWire.decode(SessionOperationWire.encode(operations))
        #expect(decoded.count == operations.count)
        for (a, b) in zip(decoded, operations) {
            #expect(a.key == b.key)
            #expect(a.applied(to: nil).jsonBytes == b.applied(to: nil).jsonBytes)
        }
        #expect(throws: SessionStoreError.self) { try SessionOperationWire.decode(Array(#"[{"k":"n","o":"nope"}]"#.utf8)) }
        #expect(throws: SessionStoreError.self) { try SessionOperationWire.decode(Array("{}".utf8)) }
    }

    @Test func sumsSaturate() {
        let value = SessionOperation(key: "n", kind: .increment(by: Int.max)).applied(to: SessionValue(json: Array("5".utf8)))
        #expect(String(decoding: value.jsonBytes, as: UTF8.self) == String(Int.max))
    }
}
