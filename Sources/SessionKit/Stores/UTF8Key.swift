/// A string as a dictionary key that matches only the same UTF-8 bytes. `String`'s `==` and hash
/// follow Unicode canonical equivalence, so "é" (U+00E9) and "e\u{301}" are one key; user IDs are
/// opaque bytes to every store (SQLite, PostgreSQL and Redis compare bytes), so they must be two.
///
/// ```swift
/// var users: [UTF8Key: Int] = [:]
/// users[UTF8Key("Jos\u{E9}")] = 1
/// users[UTF8Key("Jose\u{301}")]   // nil
/// ```
struct UTF8Key: Hashable, Sendable {
    /// The string, exactly as given.
    let string: String

    init(_ string: String) {
        self.string = string
    }

    static func == (lhs: UTF8Key, rhs: UTF8Key) -> Bool {
        lhs.string.utf8.elementsEqual(rhs.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var string = string
        string.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(0xFF as UInt8)  // no UTF-8 byte: ends the string
    }
}
