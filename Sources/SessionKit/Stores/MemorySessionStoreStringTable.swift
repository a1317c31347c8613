/// Strings that many sessions of a ``MemorySessionStoreShard`` share (user agents), each kept once
/// and counted: a million sessions from a few hundred browsers hold a few hundred strings, and a
/// session refers to its string by a 32-bit number.
///
/// A string is dropped when the last session that refers to it goes, so the table never holds
/// more strings than the shard holds sessions, whatever clients send.
///
/// ```swift
/// var table = MemorySessionStoreStringTable()
/// let id = table.retain("Mozilla/5.0 …")     // the same number for the same string
/// table[id]                                  // "Mozilla/5.0 …"
/// table.release(id)                          // gone with its last reference
/// ```
struct MemorySessionStoreStringTable: Sendable {
    /// The strings by number; `nil` for a free number.
    private var strings: [String?] = []
    /// How many references each number has.
    private var counts: [Int32] = []
    /// By bytes: canonically equivalent strings are kept apart, each as it was sent.
    private var numbers: [UTF8Key: Int32] = [:]
    private var free: [Int32] = []

    /// The number of distinct strings held.
    var count: Int { numbers.count }

    /// The string with number `id` (one returned by ``retain(_:)`` and not released since).
    subscript(id: Int32) -> String {
        guard let string = strings[Int(id)] else { preconditionFailure("string \(id) was released") }
        return string
    }

    /// The number of `string`, with one more reference to it.
    mutating func retain(_ string: String) -> Int32 {
        if let id = numbers[UTF8Key(string)] {
            counts[Int(id)] += 1
            return id
        }
        let id: Int32
        if let reused = free.popLast() {
            id = reused
            strings[Int(id)] = string
            counts[Int(id)] = 1
        } else {
            id = Int32(strings.count)
            strings.append(string)
            counts.append(1)
        }
        numbers[UTF8Key(string)] = id
        return id
    }

    /// Drops one reference to `id`, and the string with the last one.
    mutating func release(_ id: Int32) {
        counts[Int(id)] -= 1
        guard counts[Int(id)] == 0 else { return }
        if let string = strings[Int(id)] { numbers.removeValue(forKey: UTF8Key(string)) }
        strings[Int(id)] = nil
        free.append(id)
    }
}
