import Testing
@testable import SessionKit

@Suite("MemorySessionStoreIndex")
struct MemorySessionStoreIndexTests {
    static func key(_ w0: UInt64, _ w1: UInt64, _ w2: UInt64 = 0, _ w3: UInt64 = 0) -> SessionStorageKey {
        withUnsafeBytes(of: (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)) { SessionStorageKey(bytes: $0)! }
    }

    /// Random inserts and removals against a `Dictionary` model: every key is found at its slot,
    /// removed keys are gone, and the count matches, through several growths of the table.
    @Test(arguments: [UInt64(1), 2, 3])
    func behavesLikeADictionary(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var index = MemorySessionStoreIndex(seed: random.next())
        var model: [SessionStorageKey: Int32] = [:]
        var freeSlots: [Int32] = []
        var nextSlot: Int32 = 0
        var everInserted: [SessionStorageKey] = []
        for step in 0..<30_000 {
            if model.isEmpty || random.next() % 3 != 0 {
                let key = Self.key(random.next(), random.next(), random.next(), random.next())
                let slot: Int32
                if let free = freeSlots.popLast() { slot = free } else { slot = nextSlot; nextSlot += 1 }
                index.insert(key, at: slot)
                model[key] = slot
                everInserted.append(key)
            } else {
                let key = model.keys.randomElement(using: &random)!
                let removed = index.remove(key)
                let removedAgain = index.remove(key)
                #expect(removed)
                #expect(!removedAgain, "a second removal finds nothing")
                freeSlots.append(model.removeValue(forKey: key)!)
            }
            if step % 1000 == 0 || step == 29_999 {
                #expect(index.count == model.count)
                for (key, slot) in model {
                    #expect(index.find(key) == slot)
                    #expect(index.key(at: slot) == key)
                }
                for key in everInserted.suffix(200) where model[key] == nil { #expect(index.find(key) == nil) }
            }
        }
    }

    /// Keys with the same second word share a home position: one long run, wrapped around the end
    /// of the table, where removal must shift the right entries back and no others.
    @Test func collidingKeysSurviveRemovalsInAnyOrder() {
        var random = SplitMix64(seed: 7)
        for round in 0..<20 {
            var index = MemorySessionStoreIndex(seed: UInt64(round))
            let keys = (0..<30).map { Self.key(UInt64($0), 0xDEAD_BEEF, UInt64(round)) }
            let others = (0..<10).map { Self.key(UInt64($0), random.next()) }
            for (slot, key) in (keys + others).enumerated() { index.insert(key, at: Int32(slot)) }
            var live = Dictionary(uniqueKeysWithValues: (keys + others).enumerated().map { ($1, Int32($0)) })
            for key in (keys + others).shuffled(using: &random).prefix(25) {
                let removed = index.remove(key)
                #expect(removed)
                live[key] = nil
                for (liveKey, slot) in live { #expect(index.find(liveKey) == slot) }
                #expect(index.find(key) == nil)
            }
            #expect(index.count == live.count)
        }
    }

    @Test func anEmptyIndexFindsNothing() {
        let index = MemorySessionStoreIndex(seed: 0)
        #expect(index.find(Self.key(1, 2)) == nil)
        #expect(index.count == 0)
    }
}
