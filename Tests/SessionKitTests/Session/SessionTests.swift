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

    /// The common types take code compiled for them, the rest the generic path: both must read
    /// the same values the same way, whether stored as JSON or in Flask's form.
    @Test func commonTypesReadAsTheGenericPathDoes() throws {
        func generic<Value: Codable & Sendable>(_ session: Session, _ key: String, _ type: Value.Type) -> Value? {
            try? session.decodedValue(key, as: type)
        }
        let session = Session(data: SessionData(values: [
            "s": SessionValue(json: Array("\"caf\u{e9}\"".utf8)), "escaped": SessionValue(json: Array("\"a\\nb\"".utf8)),
            "i": SessionValue(json: Array("-42".utf8)), "b": SessionValue(json: Array("true".utf8)),
            "d": SessionValue(json: Array("1.5".utf8)), "whole": SessionValue(json: Array("3".utf8)),
            "fs": SessionValue(flask: .string("x")), "fi": SessionValue(flask: .int(7)), "fb": SessionValue(flask: .bool(false)),
            "fd": SessionValue(flask: .double(2.25)), "list": SessionValue(json: Array("[1,2]".utf8)),
        ]))
        for key in ["s", "escaped", "i", "b", "d", "whole", "fs", "fi", "fb", "fd", "list", "missing"] {
            #expect(session[key, as: String.self] == generic(session, key, String.self), "\(key)")
            #expect(session[key, as: Int.self] == generic(session, key, Int.self), "\(key)")
            #expect(session[key, as: Bool.self] == generic(session, key, Bool.self), "\(key)")
            #expect(session[key, as: Double.self] == generic(session, key, Double.self), "\(key)")
            #expect(session[key, as: [Int].self] == generic(session, key, [Int].self), "\(key)")
        }
        #expect(session["s", as: String.self] == "caf\u{e9}" && session["escaped", as: String.self] == "a\nb")
        #expect(session["i", as: Int.self] == -42 && session["whole", as: Double.self] == 3)
        #expect(session["list", as: [Int].self] == [1, 2] && session["list", as: Int.self] == nil)
        // Setting goes through the same split: stored as Flask's own types, read back alike.
        session["s2"] = "y"
        session["i2"] = 8
        session["b2"] = true
        session["d2"] = 0.5
        #expect(session.rawValue("s2") == SessionValue(flask: .string("y")) && session.rawValue("i2") == SessionValue(flask: .int(8)))
        #expect(session.rawValue("b2") == SessionValue(flask: .bool(true)) && session.rawValue("d2") == SessionValue(flask: .double(0.5)))
        #expect(session["s2", as: String.self] == "y" && session["i2", as: Int.self] == 8)
        #expect(session["b2", as: Bool.self] == true && session["d2", as: Double.self] == 0.5)
    }

    /// A value decoded with JSONDecoder is kept decoded, until the key changes in any way.
    @Test func decodedValuesAreDroppedWhenTheKeyChanges() throws {
        let first = Cart(items: ["apple"], updated: Date(timeIntervalSince1970: 1))
        let second = Cart(items: ["pear"], updated: Date(timeIntervalSince1970: 2))
        let session = Session(data: SessionData(values: ["cart": try SessionValue(encoding: first)]))
        #expect(session[.cart] == first)
        #expect(session[.cart] == first)                                  // from the cache
        session.setRawValue(try SessionValue(encoding: second), for: "cart")
        #expect(session[.cart] == second)
        session[.cart] = first                                            // cached as set
        #expect(session[.cart] == first)
        session.setFlaskValue(.string("not a cart"), for: "cart")
        #expect(session[.cart] == nil && session["cart", as: String.self] == "not a cart")
        session[.cart] = second
        #expect(session.remove("cart"))
        #expect(session[.cart] == nil)
        session.setRawValue(try SessionValue(encoding: first), for: "cart")
        #expect(session[.cart] == first)
        session.clear()
        #expect(session[.cart] == nil)
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
