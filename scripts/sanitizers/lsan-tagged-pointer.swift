// Shows why scripts/sanitizers/address-suppressions.txt lists two globals: LeakSanitizer reports
// memory that a global still holds when the global is a Swift enum with several payload cases,
// because Swift keeps the case in the pointer's spare high bits, and LeakSanitizer's scan does not
// recognise the tagged word as a pointer.
//
//   swiftc -sanitize=address scripts/sanitizers/lsan-tagged-pointer.swift -o /tmp/lsan-tagged-pointer
//   ASAN_OPTIONS=detect_leaks=1 /tmp/lsan-tagged-pointer
//
// Swift 6.3.1 on Linux, 2026-12-05: prints the global's stored word (0xc000… : the pointer with the
// case in its top bits) and the node count, then LeakSanitizer reports the global's boxes as
// "Direct leak" from Holder.value's initializer, though Holder.value holds them until exit.
indirect enum Value {
    case int(Int)
    case string(String)
    case list([Value])
    case dict([(String, Value)])
}

enum Holder {
    static let value: Value = .dict([
        ("a", .list([.int(1), .string("a string longer than fifteen bytes")])),
        ("b", .dict([("c", .int(2))])),
    ])
}

func count(_ value: Value) -> Int {
    switch value {
    case .int, .string: return 1
    case .list(let items): return items.map(count).reduce(1, +)
    case .dict(let entries): return entries.map { count($0.1) }.reduce(1, +)
    }
}

withUnsafeBytes(of: Holder.value) { print("stored word: 0x" + String($0.load(as: UInt.self), radix: 16)) }
print("nodes:", count(Holder.value))

#if canImport(Glibc)
import Glibc
#endif
fflush(stdout)   // LeakSanitizer ends the process without flushing
