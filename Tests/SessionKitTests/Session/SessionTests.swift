import Foundation
import Testing
@testable import SessionKit

struct Cart: Codable, Sendable, Equatable {
    var items: [String]
    var updated: Date
}

extension SessionKey where Value == Cart {
    static let cart = SessionKey("cart")
}

@Suite("Session")
struct SessionTests {
    @Test func flaskStyleAccess() throws {
        let session = Session()
        #expect(session.isNew)
        #expect(!session.accessed)
        session["username"] = "alice"
        #expect(session.accessed && session.modified)
        #expect(session["username", as: String.self] == "alice")
        #expect(try session.require("username", as: String.self) == "alice")
        #expect(session.get("missing", default: 7) == 7)
        #expect(session.remove("username"))
        #expect(!session.remove("username"))
        #expect(throws: SessionError.self) { try session.require("username", as: String.self) }
        do {
            _ = try session.require("username", as: String.self)
        } catch let error as SessionError {
            #expect(error.code == .missingKey)
        }
    }

    @Test func typedValuesAndKeys() throws {
        let session = Session()
        let cart = Cart(items: ["apple", "pear"], updated: Date(timeIntervalSince1970: 1_700_000_000))
        session[.cart] = cart
        #expect(session[.cart] == cart)
        #expect(session["cart", as: Cart.self] == cart)
        // A value of another type reads as nil, and as a clear error when required.
        #expect(session["cart", as: Int.self] == nil)
        #expect(throws: SessionError.self) { try session.require("cart", as: Int.self) }
        session[.cart] = nil
        #expect(!session.contains("cart"))
    }

    @Test func lazyDecodingFromStoredJSON() throws {
        let data = SessionData(values: [
            "n": SessionValue(json: Array("41".utf8)),
            "broken": SessionValue(json: Array("{not json".utf8)),
        ])
        let session = Session(data: data)
        #expect(!session.isNew)
        #expect(session["n", as: Int.self] == 41)
        // A corrupt value does not spoil the others and is a typeMismatch when required.
        #expect(session["broken", as: String.self] == nil)
        #expect(throws: SessionError.self) { try session.require("broken", as: String.self) }
        #expect(!session.modified)
    }

    @Test func popReturnsTheOldValue() throws {
        let session = Session(data: SessionData(values: ["k": try SessionValue(encoding: "v")]))
        #expect(session.remove("k", as: String.self) == "v")
        #expect(session.modified)
        let untouched = Session()
        #expect(untouched.remove("k", as: String.self) == nil)
        #expect(!untouched.modified)
    }

    @Test func clearAndKeys() throws {
        let session = Session(data: SessionData(values: ["b": try SessionValue(encoding: 1), "a": try SessionValue(encoding: 2)]))
        #expect(session.keys == ["a", "b"])
        session.clear()
        #expect(session.isEmpty)
        #expect(session.modified)
        #expect(session.snapshot().delta == .replaceAll([:]))
        // clear() on an empty session still counts as a change (Flask deletes the cookie).
        let empty = Session()
        empty.clear()
        #expect(empty.modified)
    }

    @Test func deltaTracksChangedKeys() throws {
        let session = Session(data: SessionData(values: ["keep": try SessionValue(encoding: 1), "drop": try SessionValue(encoding: 2)]))
        session["new"] = "x"
        session.remove("drop")
        _ = session["keep", as: Int.self]
        guard case .update(let set, let removed) = session.snapshot().delta else { Issue.record("expected update"); return }
        #expect(Set(set.keys) == ["new"])
        #expect(removed == ["drop"])
    }

    @Test func permanentIsStoredAsFlaskDoes() {
        let session = Session()
        #expect(!session.isPermanent)
        session.isPermanent = true
        #expect(session.isPermanent)
        #expect(session.flaskValue("_permanent") == .bool(true))
        #expect(session.snapshot().isPermanent)
    }

    @Test func flashesAreFlaskTuples() {
        let session = Session()
        session.flash("Hello")
        session.flash("Oops", category: "error")
        #expect(session.flaskValue("_flashes") == .list([.tuple([.string("message"), .string("Hello")]), .tuple([.string("error"), .string("Oops")])]))
        #expect(session.consumeFlashes() == [FlashMessage(text: "Hello"), FlashMessage(category: "error", text: "Oops")])
        #expect(session.consumeFlashes().isEmpty)
        #expect(!session.contains("_flashes"))
    }

    @Test func flashesStoredAsPlainJSONStillRead() {
        let session = Session(data: SessionData(values: ["_flashes": SessionValue(json: Array(#"[["message","Hi"]]"#.utf8))]))
        #expect(session.consumeFlashes() == [FlashMessage(text: "Hi")])
    }

    @Test func lifecycleRequests() {
        let session = Session(data: SessionData(values: ["a": SessionValue(json: Array("1".utf8))]))
        session.regenerateID()
        #expect(session.regenerateRequested)
        session.invalidate()
        #expect(session.invalidateRequested && session.isEmpty)
    }

    @Test func concurrentWritesToOneSession() async {
        let session = Session()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask { session["k\(index)"] = index }
            }
        }
        #expect(session.keys.count == 200)
        #expect(session["k123", as: Int.self] == 123)
    }

    struct Unencodable: Codable, Sendable {
        struct Refused: Error {}
        init() {}
        init(from decoder: any Decoder) throws { throw Refused() }
        func encode(to encoder: any Encoder) throws { throw Refused() }
    }

    @Test func encodingFailureIsAClearError() {
        let session = Session()
        #expect(throws: SessionError.self) { try session.set("bad", Unencodable()) }
        #expect(!session.contains("bad"))
        #expect(!session.modified)
    }
}
