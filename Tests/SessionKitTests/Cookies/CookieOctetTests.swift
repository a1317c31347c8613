import Testing
@testable import SessionKit

/// The table-based check of cookie values agrees with RFC 6265's cookie-octet rule for every byte,
/// alone, among valid bytes, at the ends of quoted values, and in non-ASCII text.
@Suite("Cookie octets")
struct CookieOctetTests {
    static func rule(_ byte: UInt8) -> Bool {
        byte == 0x21 || (0x23...0x2B).contains(byte) || (0x2D...0x3A).contains(byte) || (0x3C...0x5B).contains(byte) || (0x5D...0x7E).contains(byte)
    }

    @Test func everyByteAloneAndAmongValidOnes() {
        for byte in UInt8(0)...UInt8(255) {
            let expected = Self.rule(byte)
            let alone = String(decoding: [byte], as: UTF8.self)
            if byte < 0x80 {
                #expect(SetCookie.isCookieValue("abc" + alone + "xyz") == expected, "byte \(byte)")
                #expect(SetCookie.isCookieValue(alone) == expected, "byte \(byte)")
                #expect(SetCookie.isCookieValue("\"ab" + alone + "\"") == expected, "quoted byte \(byte)")
            }
            #expect(SetCookie.areCookieOctets(Substring(String(decoding: [0x61, byte, 0x62], as: UTF8.self)).utf8) == (byte < 0x80 && expected))
        }
        #expect(SetCookie.isCookieValue(""))
        #expect(SetCookie.isCookieValue("\"\""))
        #expect(!SetCookie.isCookieValue("\""))
        #expect(!SetCookie.isCookieValue("caf\u{e9}"))
        #expect(SetCookie.isCookieValue(String(repeating: "Zz09-_.", count: 500)))
    }
}
