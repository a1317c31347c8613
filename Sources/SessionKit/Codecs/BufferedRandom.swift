#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Random bytes from the operating system's CSPRNG, fetched 256 at a time.
///
/// Nonces and session IDs need 12 and 32 random bytes per request. Asking the kernel for them one
/// 8-byte word at a time (what `SystemRandomNumberGenerator` and swift-crypto's `Nonce()` do) costs
/// two to four `getrandom` system calls a request; this takes them from a buffer that one
/// `getentropy` call fills 256 bytes at a time. The bytes are the kernel's, unchanged; each byte is
/// handed out once and wiped from the buffer as it is taken. A forked child never reuses the
/// parent's buffer: a `pthread_atfork` handler bumps a generation number that makes the next take
/// in either process refill first. If the kernel call fails, the bytes come from
/// `SystemRandomNumberGenerator` instead.
///
/// ```swift
/// var nonce = [UInt8](repeating: 0, count: 12)
/// nonce.withUnsafeMutableBytes { BufferedRandom.fill($0) }
/// ```
enum BufferedRandom {
    private static let capacity = 256

    /// The buffer, allocated once for the life of the process; only touched under `pool`'s lock.
    private nonisolated(unsafe) static let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)

    private struct Pool {
        /// Bytes already handed out (or not yet fetched): the next byte is at `used`.
        var used = BufferedRandom.capacity
        var generation = -1
    }

    private static let pool = Mutex(Pool())
    private static let forkGeneration = Atomic<Int>(0)
    private static let forkHandler: Void = {
        #if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
        _ = pthread_atfork(nil, nil) { _ = BufferedRandom.forkGeneration.add(1, ordering: .relaxed) }
        #endif
    }()

    /// Fills `buffer` with random bytes.
    static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        _ = forkHandler
        let generation = forkGeneration.load(ordering: .relaxed)
        pool.withLock { pool in
            if pool.generation != generation {
                pool.used = capacity
                pool.generation = generation
            }
            var offset = 0
            while offset < buffer.count {
                if pool.used == capacity {
                    refill(storage)
                    pool.used = 0
                }
                let take = min(buffer.count - offset, capacity - pool.used)
                let source = UnsafeMutableRawBufferPointer(rebasing: storage[pool.used..<pool.used + take])
                UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + take]).copyMemory(from: UnsafeRawBufferPointer(source))
                source.initializeMemory(as: UInt8.self, repeating: 0)
                pool.used += take
                offset += take
            }
        }
    }

    /// Eight random bytes.
    static func next() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { fill($0) }
        return value
    }

    private static func refill(_ bytes: UnsafeMutableRawBufferPointer) {
        #if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
        if getentropy(bytes.baseAddress, bytes.count) == 0 { return }
        #endif
        var generator = SystemRandomNumberGenerator()
        for index in stride(from: 0, to: bytes.count, by: 8) {
            bytes.storeBytes(of: generator.next(), toByteOffset: index, as: UInt64.self)
        }
    }
}
