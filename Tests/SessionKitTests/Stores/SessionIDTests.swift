import Testing
@testable import SessionKit

@Suite("SessionID")
struct SessionIDTests {
    @Test func roundTripsThroughItsCookieValue() throws {
        for _ in 0..<1000 {
            let id = SessionID()
            let value = id.cookieValue
            #expect(value.utf8.count == 43)
            #expect(value.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) })
            let parsed = try #require(SessionID(cookieValue: value))
            #expect(parsed == id)
            #expect(parsed.storageKey == id.storageKey)
        }
    }

    @Test func knownVector() throws {
        // 32 zero bytes then all ones: base64url of bytes 0x00..0x1f.
        let expected = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
        let id = try #require(SessionID(cookieValue: expected))
        #expect(id.cookieValue == expected)
        // The storage key is SHA-256 of the raw bytes.
        #expect(id.storageKey.hex == "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd")
        #expect(SessionStorageKey(bytes: id.storageKey.bytes) == id.storageKey)
    }

    @Test(arguments: [
        "",                                                   // empty
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh",         // 42 characters
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A",       // 44 characters
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",       // padding
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+",        // standard alphabet
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh/",        // standard alphabet
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9",        // non-zero low bits: not canonical
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh.",        // punctuation
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh é",       // non-ASCII
        " AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",        // space
    ])
    func rejectsAnythingElse(_ value: String) {
        #expect(SessionID(cookieValue: value) == nil)
    }

    /// Every byte at every position of a valid ID: accepted exactly when it is a base64url
    /// character (with the last one's two low bits zero), and then it spells the ID back.
    @Test func everySubstitutionAtEveryPosition() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let original = Array(SessionID().cookieValue.utf8)
        for position in 0..<original.count {
            for byte in UInt8(0)...UInt8(255) {
                var bytes = original
                bytes[position] = byte
                let index = alphabet.firstIndex(of: byte)
                let expected = index != nil && (position < 42 || index! & 3 == 0)
                let text = String(decoding: bytes, as: UTF8.self)
                let parsed = byte < 0x80 ? SessionID(cookieValue: text) : SessionID(cookieValue: Substring(text))
                if byte < 0x80 {
                    #expect((parsed != nil) == expected, "byte \(byte) at \(position)")
                    if let parsed { #expect(parsed.cookieValue == text) }
                } else {
                    #expect(parsed == nil)
                }
            }
        }
        #expect(SessionID(cookieValue: String(decoding: original, as: UTF8.self).dropLast()) == nil)
        #expect(SessionID(cookieValue: String(decoding: original, as: UTF8.self) + "A") == nil)
    }

    @Test func rejectsNonCanonicalLastCharacters() {
        let prefix = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh"
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for (index, character) in alphabet.enumerated() {
            let accepted = SessionID(cookieValue: prefix + String(character)) != nil
            #expect(accepted == (index & 3 == 0), "last character \(character)")
        }
    }

    @Test func aStorageKeyPresentedAsACookieIsAnotherKey() throws {
        let id = SessionID()
        let key = id.storageKey
        // An attacker with a leaked table encodes a stored key as a cookie value.
        let forged = try #require(SessionID(cookieValue: Self.base64url(key.bytes)))
        #expect(forged.storageKey != key)
        #expect(forged != id)
    }

    @Test func neverPrintsTheID() {
        let id = SessionID()
        let value = id.cookieValue
        var dumped = ""
        dump(id, to: &dumped)
        for text in [id.description, id.debugDescription, String(describing: id), String(reflecting: id), "\(id)", dumped] {
            #expect(!text.contains(value))
            #expect(!text.contains(String(value.prefix(8))))
        }
        #expect(id.storageKey.description.count < 40)
    }

    @Test func storageKeyHex() throws {
        let key = SessionID().storageKey
        #expect(SessionStorageKey(hex: key.hex) == key)
        #expect(SessionStorageKey(hex: key.hex.uppercased()) == key)
        #expect(SessionStorageKey(hex: String(key.hex.dropLast())) == nil)
        #expect(SessionStorageKey(hex: String(key.hex.dropLast()) + "g") == nil)
        #expect(SessionStorageKey(bytes: [1, 2, 3]) == nil)
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var bits: UInt32 = 0
        var count = 0
        var out = ""
        for byte in bytes {
            bits = bits << 8 | UInt32(byte)
            count += 8
            while count >= 6 {
                out.append(alphabet[Int((bits >> UInt32(count - 6)) & 63)])
                count -= 6
            }
        }
        if count > 0 { out.append(alphabet[Int((bits << UInt32(6 - count)) & 63)]) }
        return out
    }
}
