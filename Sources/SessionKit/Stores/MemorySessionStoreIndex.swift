/// The hash index of a ``MemorySessionStoreShard``: storage key to slot number, as an open-addressing
/// table of 32-bit slot numbers (linear probing, backward-shift deletion, at most half full) over
/// an array of the keys by slot number.
///
/// Each key is stored once (32 bytes in `keys`) and the table costs 4 bytes per entry, 8 to 16
/// bytes a session, where a `Dictionary<SessionStorageKey, Int32>` beside the slots would cost
/// about 80 (its own copy of each key, with headroom). A key's home position comes from its
/// second word mixed with a per-store random seed; keys are SHA-256 outputs of IDs the server
/// generated, so the keys in the table are uniformly spread and nobody outside can build clusters.
///
/// ```swift
/// var index = MemorySessionStoreIndex(seed: 42)
/// index.insert(key, at: 0)
/// let slot = index.find(key)   // 0
/// ```
struct MemorySessionStoreIndex: Sendable {
    private static let empty: Int32 = -1
    private static let minimumCapacity = 64

    private var table: [Int32]
    /// The key of each slot number; entries of free slots are stale.
    private var keys: [SessionStorageKey] = []
    private var shift: UInt64
    private let seed: UInt64
    /// Keys in the table.
    private(set) var count = 0

    init(seed: UInt64) {
        self.seed = seed | 1
        self.table = Array(repeating: Self.empty, count: Self.minimumCapacity)
        self.shift = UInt64(64 - Self.minimumCapacity.trailingZeroBitCount)
    }

    private var mask: Int { table.count - 1 }

    @inline(__always)
    private func home(_ key: SessionStorageKey) -> Int {
        Int(truncatingIfNeeded: ((key.w1 ^ seed) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The key stored at `slot` (which must be in use).
    func key(at slot: Int32) -> SessionStorageKey { keys[Int(slot)] }

    /// The slot holding `key`, or `nil`.
    func find(_ key: SessionStorageKey) -> Int32? {
        guard let position = position(of: key) else { return nil }
        return table[position]
    }

    /// Adds `key` at `slot`; the key must not be in the index and the slot must be free (a slot
    /// number at most one past the highest used so far).
    mutating func insert(_ key: SessionStorageKey, at slot: Int32) {
        if Int(slot) == keys.count { keys.append(key) } else { keys[Int(slot)] = key }
        if (count + 1) * 2 > table.count { grow() }
        place(slot, home: home(key))
        count += 1
    }

    /// Removes `key`; returns whether it was there.
    @discardableResult
    mutating func remove(_ key: SessionStorageKey) -> Bool {
        guard let position = position(of: key) else { return false }
        // Backward-shift deletion: pull later entries of the run into the hole when their home
        // position allows it, so no tombstones are needed and probes stay short.
        var hole = position
        var next = (hole + 1) & mask
        while table[next] != Self.empty {
            let wanted = home(keys[Int(table[next])])
            // `next` may move to `hole` when its home is not in the cyclic range (hole, next].
            let distanceToNext = (next - wanted) & mask
            let distanceToHole = (hole - wanted) & mask
            if distanceToHole < distanceToNext {
                table[hole] = table[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        table[hole] = Self.empty
        count -= 1
        return true
    }

    private func position(of key: SessionStorageKey) -> Int? {
        var position = home(key)
        while true {
            let slot = table[position]
            if slot == Self.empty { return nil }
            if keys[Int(slot)] == key { return position }
            position = (position + 1) & mask
        }
    }

    private mutating func place(_ slot: Int32, home: Int) {
        var position = home
        while table[position] != Self.empty { position = (position + 1) & mask }
        table[position] = slot
    }

    private mutating func grow() {
        let old = table
        table = Array(repeating: Self.empty, count: old.count * 2)
        shift -= 1
        for slot in old where slot != Self.empty { place(slot, home: home(keys[Int(slot)])) }
    }
}
