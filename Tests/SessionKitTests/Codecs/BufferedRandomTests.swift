import Testing
@testable import SessionKit

@Suite("BufferedRandom")
struct BufferedRandomTests {
    static func bytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { BufferedRandom.fill($0) }
        return bytes
    }

    /// Fills of every size across the 256-byte refill boundary, none of them repeating another.
    @Test func fillsAnySizeWithoutRepeats() {
        var seen = Set<[UInt8]>()
        for size in [1, 7, 12, 32, 255, 256, 257, 600, 12, 12] {
            let bytes = Self.bytes(size)
            #expect(bytes.count == size)
            if size >= 12 { #expect(seen.insert(bytes).inserted) }
        }
        #expect(Self.bytes(0).isEmpty)
        var nonces = Set<[UInt8]>()
        for _ in 0..<20_000 { nonces.insert(Self.bytes(12)) }
        #expect(nonces.count == 20_000)
    }

    /// Every byte value turns up about equally often (expected 1024 each; bounds 13 standard deviations out).
    @Test func bytesAreUniform() {
        var counts = [Int](repeating: 0, count: 256)
        for byte in Self.bytes(256 * 1024) { counts[Int(byte)] += 1 }
        #expect(counts.min()! > 600)
        #expect(counts.max()! < 1450)
    }

    /// Concurrent takers never get the same bytes.
    @Test func concurrentTakersGetDistinctBytes() async {
        let all = await withTaskGroup(of: [[UInt8]].self) { group in
            for _ in 0..<8 { group.addTask { (0..<2000).map { _ in Self.bytes(16) } } }
            return await group.reduce(into: [[UInt8]]()) { $0 += $1 }
        }
        #expect(Set(all).count == 16_000)
    }

    @Test func sessionIDsAndNoncesComeFromIt() throws {
        let ids = Set((0..<10_000).map { _ in SessionID().cookieValue })
        #expect(ids.count == 10_000)
    }
}
