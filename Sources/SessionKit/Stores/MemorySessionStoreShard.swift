/// One shard of ``MemorySessionStore``: a slab of slots with an intrusive least-recently-used list,
/// bucketed expiry lists and a user index. All of it is mutated under the shard's `Mutex`.
///
/// Memory: a session is one slot (its times, user ID, the number of its user agent and six 32-bit
/// links), its blob, and its key in the hash index (``MemorySessionStoreIndex``: the keys by slot
/// number and a table of 32-bit slot numbers); each distinct user agent is kept once
/// (``MemorySessionStoreStringTable``); a user's sessions are an intrusive list through their
/// slots, so the user index costs one dictionary entry per user (user ID and the list's head)
/// instead of a set per user.
///
/// Expiry: a slot sits in the doubly linked list of its expiry bucket (`expiresAt >> 3`, eight
/// seconds wide); a min-heap orders the bucket numbers. Cleanup pops buckets from the heap while
/// they are fully in the past and deletes their whole lists, then scans the one boundary bucket, so
/// its cost follows the number of expired sessions (plus at most one bucket), not the total.
/// A touch that moves a session to another bucket is two O(1) list operations; emptied buckets
/// leave stale numbers in the heap, which are skipped when popped and dropped when the heap grows
/// to twice the live bucket count.
///
/// ```swift
/// var shard = MemorySessionStoreShard(capacity: 1000, seed: 42)
/// try shard.insert(key, record, now: now)
/// let record = shard.load(key, now: now)
/// ```
struct MemorySessionStoreShard: Sendable {
    /// What moves in and out of the lock: one session in its compact form.
    struct Record: Sendable {
        /// The values and the trailer `[ipAddress]`, see ``SessionRecordCoding``.
        var blob: [UInt8]
        var userID: String?
        var createdAt: Int64
        var lastSeenAt: Int64
        var expiresAt: Int64
        var absoluteExpiresAt: Int64
        var userAgent: String?
    }

    /// A session as the shard keeps it: a ``Record`` whose user agent is a number in `userAgents`.
    private struct Slot {
        var blob: [UInt8]
        var userID: String?
        var createdAt: Int64
        var lastSeenAt: Int64
        var expiresAt: Int64
        var absoluteExpiresAt: Int64
        /// The user agent's number in `userAgents`, or -1 for none.
        var userAgent: Int32
        var lruPrev: Int32 = -1
        var lruNext: Int32 = -1
        var expiryPrev: Int32 = -1
        var expiryNext: Int32 = -1
        var userPrev: Int32 = -1
        var userNext: Int32 = -1
    }

    private static let bucketShift: Int64 = 3
    private static let bucketWidth: Int64 = 1 << bucketShift

    private var slots: [Slot] = []
    private var index: MemorySessionStoreIndex
    private var freeHead: Int32 = -1
    private var lruHead: Int32 = -1
    private var lruTail: Int32 = -1
    private var buckets: [Int64: Int32] = [:]
    private var bucketHeap: [Int64] = []
    /// The first slot of each user's list of sessions (linked through `userNext`), by the user ID's
    /// bytes: IDs that differ in bytes are different users, even when Unicode calls them equal.
    private var byUser: [UTF8Key: Int32] = [:]
    /// Each distinct user agent once, shared by the sessions that sent it.
    private var userAgents = MemorySessionStoreStringTable()
    let capacity: Int

    init(capacity: Int, seed: UInt64) {
        self.capacity = max(1, capacity)
        self.index = MemorySessionStoreIndex(seed: seed)
    }

    /// Sessions held, expired ones not yet removed included.
    var count: Int { index.count }

    /// Distinct user agents held (for tests).
    var userAgentCount: Int { userAgents.count }

    // MARK: Operations

    mutating func load(_ key: SessionStorageKey, now: Int64) -> Record? {
        guard let slot = liveSlot(key, now: now) else { return nil }
        moveToFront(slot)
        return record(at: slot)
    }

    mutating func insert(_ key: SessionStorageKey, _ record: Record, now: Int64) throws(SessionStoreError) {
        if liveSlot(key, now: now) != nil { throw SessionStoreError.alreadyExists(key) }
        let slot = allocate(Slot(
            blob: record.blob, userID: record.userID, createdAt: record.createdAt, lastSeenAt: record.lastSeenAt,
            expiresAt: record.expiresAt, absoluteExpiresAt: record.absoluteExpiresAt,
            userAgent: record.userAgent.map { userAgents.retain($0) } ?? -1
        ))
        index.insert(key, at: slot)
        linkFront(slot)
        linkExpiry(slot)
        linkUser(slot)
        if index.count > capacity {
            _ = removeExpired(now: now)
            while index.count > capacity, lruTail != -1, lruTail != slot { removeSlot(lruTail) }
        }
    }

    /// Replaces the blob of a live session (and its user, when `newUserID` is non-nil).
    mutating func update(
        _ key: SessionStorageKey, now: Int64, expiresAt: Int64, newUserID: String??,
        _ transform: ([UInt8]) throws -> [UInt8]
    ) throws -> Bool {
        guard let slot = liveSlot(key, now: now) else { return false }
        let blob = try transform(slots[Int(slot)].blob)
        slots[Int(slot)].blob = blob
        if let newUserID, !Self.sameUser(newUserID, slots[Int(slot)].userID) {
            unlinkUser(slot)
            slots[Int(slot)].userID = newUserID
            linkUser(slot)
        }
        setExpiry(slot, expiresAt, now: now)
        moveToFront(slot)
        return true
    }

    mutating func touch(_ key: SessionStorageKey, expiresAt: Int64, now: Int64) -> Bool {
        guard let slot = liveSlot(key, now: now) else { return false }
        setExpiry(slot, expiresAt, now: now)
        moveToFront(slot)
        return true
    }

    /// Removes the session; returns its record when it was live.
    @discardableResult
    mutating func remove(_ key: SessionStorageKey, now: Int64) -> Record? {
        guard let slot = index.find(key) else { return nil }
        let removed = record(at: slot)
        removeSlot(slot)
        return removed.expiresAt > now ? removed : nil
    }

    func containsLive(_ key: SessionStorageKey, now: Int64) -> Bool {
        guard let slot = index.find(key) else { return false }
        return slots[Int(slot)].expiresAt > now
    }

    mutating func removeExpired(now: Int64) -> Int {
        var removed = 0
        while let bucket = bucketHeap.first {
            guard let head = buckets[bucket] else {
                popHeap()
                continue
            }
            let start = bucket << Self.bucketShift
            if start + Self.bucketWidth - 1 <= now {
                popHeap()
                var slot = head
                while slot != -1 {
                    let next = slots[Int(slot)].expiryNext
                    removeSlot(slot)
                    removed += 1
                    slot = next
                }
            } else {
                if start <= now {
                    var slot = head
                    while slot != -1 {
                        let next = slots[Int(slot)].expiryNext
                        if slots[Int(slot)].expiresAt <= now {
                            removeSlot(slot)
                            removed += 1
                        }
                        slot = next
                    }
                }
                break
            }
        }
        compactHeapIfNeeded()
        return removed
    }

    func sessions(ofUser userID: String, now: Int64) -> [(SessionStorageKey, Record)] {
        var found: [(SessionStorageKey, Record)] = []
        var slot = byUser[UTF8Key(userID)] ?? -1
        while slot != -1 {
            if slots[Int(slot)].expiresAt > now { found.append((index.key(at: slot), record(at: slot))) }
            slot = slots[Int(slot)].userNext
        }
        return found
    }

    mutating func revoke(ofUser userID: String, except: SessionStorageKey?, now: Int64) -> Int {
        var revoked = 0
        var slot = byUser[UTF8Key(userID)] ?? -1
        while slot != -1 {
            let next = slots[Int(slot)].userNext
            if index.key(at: slot) != except {
                if slots[Int(slot)].expiresAt > now { revoked += 1 }
                removeSlot(slot)
            }
            slot = next
        }
        return revoked
    }

    // MARK: Slots

    /// The slot of a live session; an expired one found on the way is removed.
    private mutating func liveSlot(_ key: SessionStorageKey, now: Int64) -> Int32? {
        guard let slot = index.find(key) else { return nil }
        if slots[Int(slot)].expiresAt <= now {
            removeSlot(slot)
            return nil
        }
        return slot
    }

    /// The session in `slot` with its user agent's string.
    private func record(at slot: Int32) -> Record {
        let slot = slots[Int(slot)]
        return Record(
            blob: slot.blob, userID: slot.userID, createdAt: slot.createdAt, lastSeenAt: slot.lastSeenAt,
            expiresAt: slot.expiresAt, absoluteExpiresAt: slot.absoluteExpiresAt,
            userAgent: slot.userAgent == -1 ? nil : userAgents[slot.userAgent]
        )
    }

    private mutating func allocate(_ value: Slot) -> Int32 {
        if freeHead != -1 {
            let slot = freeHead
            freeHead = slots[Int(slot)].lruNext
            slots[Int(slot)] = value
            return slot
        }
        slots.append(value)
        return Int32(slots.count - 1)
    }

    private mutating func removeSlot(_ slot: Int32) {
        index.remove(index.key(at: slot))
        unlinkLRU(slot)
        unlinkExpiry(slot)
        unlinkUser(slot)
        slots[Int(slot)].blob = []
        slots[Int(slot)].userID = nil
        if slots[Int(slot)].userAgent != -1 {
            userAgents.release(slots[Int(slot)].userAgent)
            slots[Int(slot)].userAgent = -1
        }
        slots[Int(slot)].lruNext = freeHead
        freeHead = slot
    }

    // MARK: Users' lists (head: the latest to join)

    /// Whether two user IDs are the same bytes (not merely canonically equivalent).
    private static func sameUser(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let a?, let b?): return a.utf8.elementsEqual(b.utf8)
        default: return false
        }
    }

    private mutating func linkUser(_ slot: Int32) {
        guard let userID = slots[Int(slot)].userID else { return }
        slots[Int(slot)].userPrev = -1
        let head = byUser.updateValue(slot, forKey: UTF8Key(userID)) ?? -1
        slots[Int(slot)].userNext = head
        if head != -1 { slots[Int(head)].userPrev = slot }
    }

    private mutating func unlinkUser(_ slot: Int32) {
        guard let userID = slots[Int(slot)].userID else { return }
        let prev = slots[Int(slot)].userPrev
        let next = slots[Int(slot)].userNext
        if prev != -1 {
            slots[Int(prev)].userNext = next
        } else if next != -1 {
            byUser[UTF8Key(userID)] = next
        } else {
            byUser.removeValue(forKey: UTF8Key(userID))
        }
        if next != -1 { slots[Int(next)].userPrev = prev }
        slots[Int(slot)].userPrev = -1
        slots[Int(slot)].userNext = -1
    }

    private mutating func setExpiry(_ slot: Int32, _ expiresAt: Int64, now: Int64) {
        let capped = min(expiresAt, slots[Int(slot)].absoluteExpiresAt)
        slots[Int(slot)].lastSeenAt = now
        let old = slots[Int(slot)].expiresAt
        if old >> Self.bucketShift == capped >> Self.bucketShift {
            slots[Int(slot)].expiresAt = capped
        } else {
            unlinkExpiry(slot)
            slots[Int(slot)].expiresAt = capped
            linkExpiry(slot)
        }
    }

    // MARK: Least-recently-used list (head: most recent)

    private mutating func linkFront(_ slot: Int32) {
        slots[Int(slot)].lruPrev = -1
        slots[Int(slot)].lruNext = lruHead
        if lruHead != -1 { slots[Int(lruHead)].lruPrev = slot }
        lruHead = slot
        if lruTail == -1 { lruTail = slot }
    }

    private mutating func unlinkLRU(_ slot: Int32) {
        let prev = slots[Int(slot)].lruPrev
        let next = slots[Int(slot)].lruNext
        if prev != -1 { slots[Int(prev)].lruNext = next } else { lruHead = next }
        if next != -1 { slots[Int(next)].lruPrev = prev } else { lruTail = prev }
        slots[Int(slot)].lruPrev = -1
        slots[Int(slot)].lruNext = -1
    }

    private mutating func moveToFront(_ slot: Int32) {
        guard lruHead != slot else { return }
        unlinkLRU(slot)
        linkFront(slot)
    }

    // MARK: Expiry buckets

    private mutating func linkExpiry(_ slot: Int32) {
        let bucket = slots[Int(slot)].expiresAt >> Self.bucketShift
        slots[Int(slot)].expiryPrev = -1
        if let head = buckets[bucket] {
            slots[Int(slot)].expiryNext = head
            slots[Int(head)].expiryPrev = slot
        } else {
            slots[Int(slot)].expiryNext = -1
            pushHeap(bucket)
        }
        buckets[bucket] = slot
    }

    private mutating func unlinkExpiry(_ slot: Int32) {
        let prev = slots[Int(slot)].expiryPrev
        let next = slots[Int(slot)].expiryNext
        if prev != -1 {
            slots[Int(prev)].expiryNext = next
        } else {
            let bucket = slots[Int(slot)].expiresAt >> Self.bucketShift
            if next == -1 { buckets.removeValue(forKey: bucket) } else { buckets[bucket] = next }
        }
        if next != -1 { slots[Int(next)].expiryPrev = prev }
        slots[Int(slot)].expiryPrev = -1
        slots[Int(slot)].expiryNext = -1
    }

    private mutating func pushHeap(_ value: Int64) {
        bucketHeap.append(value)
        var child = bucketHeap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard bucketHeap[child] < bucketHeap[parent] else { break }
            bucketHeap.swapAt(child, parent)
            child = parent
        }
        compactHeapIfNeeded()
    }

    private mutating func popHeap() {
        let last = bucketHeap.removeLast()
        guard !bucketHeap.isEmpty else { return }
        bucketHeap[0] = last
        siftDown(0)
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = bucketHeap.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            let right = left + 1
            let child = right < count && bucketHeap[right] < bucketHeap[left] ? right : left
            guard bucketHeap[child] < bucketHeap[parent] else { return }
            bucketHeap.swapAt(child, parent)
            parent = child
        }
    }

    private mutating func compactHeapIfNeeded() {
        guard bucketHeap.count > 2 * buckets.count + 64 else { return }
        bucketHeap = Array(buckets.keys)
        var index = bucketHeap.count / 2
        while index > 0 {
            index -= 1
            siftDown(index)
        }
    }
}
