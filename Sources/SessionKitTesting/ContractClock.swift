import Synchronization

/// A clock the contract moves by hand: stores under test read it instead of the system time.
///
/// ```swift
/// let clock = ContractClock()
/// let store = MemorySessionStore(clock: clock.function)
/// clock.advance(by: 3600)     // an hour later
/// ```
public final class ContractClock: Sendable {
    private let value: Atomic<Int64>

    /// A clock at `start` (Unix seconds).
    public init(_ start: Int64 = 1_800_000_000) {
        value = Atomic(start)
    }

    /// The current time.
    public var now: Int64 { value.load(ordering: .sequentiallyConsistent) }

    /// Moves the clock by `seconds` (backwards with a negative number).
    public func advance(by seconds: Int64) {
        value.add(seconds, ordering: .sequentiallyConsistent)
    }

    /// The clock as a store takes it.
    public var function: @Sendable () -> Int64 { { self.now } }
}
