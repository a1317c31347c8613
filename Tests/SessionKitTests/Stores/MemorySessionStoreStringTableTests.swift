import Testing
@testable import SessionKit

@Suite("MemorySessionStoreStringTable")
struct MemorySessionStoreStringTableTests {
    @Test func theSameStringGetsTheSameNumberUntilItsLastRelease() {
        var table = MemorySessionStoreStringTable()
        let firefox = table.retain("Firefox")
        let chrome = table.retain("Chrome")
        #expect(table.retain("Firefox") == firefox)
        #expect(firefox != chrome)
        #expect(table[firefox] == "Firefox" && table[chrome] == "Chrome")
        #expect(table.count == 2)
        table.release(firefox)
        #expect(table.count == 2 && table[firefox] == "Firefox")
        table.release(firefox)
        #expect(table.count == 1)
        // A freed number is reused, for whatever string comes next.
        #expect(table.retain("Safari") == firefox)
        #expect(table[firefox] == "Safari" && table[chrome] == "Chrome")
    }

    @Test func followsAModelOfReferenceCounts() {
        var random = SplitMix64(seed: 5)
        var table = MemorySessionStoreStringTable()
        var held: [(id: Int32, string: String)] = []
        for _ in 0..<5_000 {
            if held.isEmpty || random.next() % 3 != 0 {
                let string = "agent-\(random.next() % 40)"
                held.append((table.retain(string), string))
            } else {
                let index = Int(random.next() % UInt64(held.count))
                table.release(held.remove(at: index).id)
            }
            #expect(table.count == Set(held.map(\.string)).count)
        }
        for (id, string) in held { #expect(table[id] == string) }
        for (id, _) in held { table.release(id) }
        #expect(table.count == 0)
    }
}
