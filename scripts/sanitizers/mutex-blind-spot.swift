// Shows why scripts/sanitizers/thread-suppressions.txt exists: ThreadSanitizer reports races on
// state that is only ever touched inside Synchronization.Mutex.withLock, because a contended lock
// is taken and handed over in libswiftSynchronization.so (a futex), which is not instrumented.
//
//   swiftc -sanitize=thread scripts/sanitizers/mutex-blind-spot.swift -o /tmp/mutex-blind-spot
//   /tmp/mutex-blind-spot    # prints 800000 twice (nothing lost), and ThreadSanitizer reports races
import Foundation
import Synchronization

/// A counter in the lock and a plain one touched only while holding it.
final class Counters: @unchecked Sendable {
    let lock = Mutex<Int>(0)
    var plain = 0
}

let counters = Counters()
let finished = Atomic<Int>(0)
let threads = (0..<4).map { _ in
    Thread {
        for _ in 0..<200_000 {
            counters.lock.withLock { value in
                value += 1
                counters.plain += 1
            }
        }
        finished.add(1, ordering: .releasing)
    }
}
for thread in threads { thread.start() }
while finished.load(ordering: .acquiring) < 4 { usleep(1000) }
print("in the lock:", counters.lock.withLock { $0 }, "plain:", counters.plain)
