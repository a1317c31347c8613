import SessionKit
import Synchronization

/// A wrapper for tests of failure handling: forwards to another store, but can fail chosen
/// operations (always, or at a rate from a seeded generator), delay them, and counts every call.
///
/// A call is counted first (failed ones included), then waits at the gate if its operation is
/// held (``hold(_:)``, for deterministic races), then sleeps the injected latency (`Task.sleep`,
/// so it honours cancellation), then fails or is forwarded. The touching load
/// (``/SessionKit/SessionStore/load(_:touchingIfDue:)``) is the protocol's default, so that each part can fail on
/// its own: a read whose touch is due counts as a `.load` and a `.touch`.
///
/// ```swift
/// let store = FaultInjectingSessionStore(MemorySessionStore())
/// store.fail([.load])                                 // the store is "down" for reads
/// store.setLatency(.milliseconds(50), for: [.apply])
/// // ... run a request through the engine ...
/// #expect(store.writeCount == 0)                      // nothing was written
///
/// store.hold([.apply])                                // a slow request, deterministically:
/// async let applied = store.apply(delta, to: key, expiresAt: deadline)
/// await store.waitForHeldCalls(1)                     // it has arrived at the store
/// try await store.delete(key)                         // a logout overtakes it
/// store.release()
/// #expect(try await applied == false)
/// ```
public final class FaultInjectingSessionStore: SessionStore, WrappingSessionStore {
    /// An operation of ``/SessionKit/SessionStore``.
    public enum Operation: String, Sendable, Hashable, CaseIterable {
        case load, create, apply, touch, delete, rename, removeExpired

        /// Whether the operation writes.
        public var isWrite: Bool { self != .load }
    }

    private struct State {
        var alwaysFail: Set<Operation> = []
        var failureRate: Double = 0
        var rateOperations: Set<Operation> = []
        var latency: [Operation: Duration] = [:]
        var calls: [Operation: Int] = [:]
        var rng: SplitMix64
        var held: Set<Operation> = []
        var heldCalls: [CheckedContinuation<Void, Never>] = []
    }

    /// The wrapped store.
    public let base: any SessionStore
    package var wrappedStore: any SessionStore { base }
    /// The error thrown for an injected failure.
    public let error: any Error
    private let state: Mutex<State>

    /// Wraps `base`; `seed` makes rate-based failures reproducible.
    public init(
        _ base: any SessionStore, seed: UInt64 = 0,
        error: any Error = SessionStoreError(.injectedFault, "injected store failure")
    ) {
        self.base = base
        self.error = error
        self.state = Mutex(State(rng: SplitMix64(seed: seed)))
    }

    // MARK: Configuring

    /// Makes every call of `operations` fail (replacing the previous set; `[]` stops failing).
    public func fail(_ operations: Set<Operation>) {
        state.withLock { $0.alwaysFail = operations }
    }

    /// Makes calls of `operations` fail with probability `rate` (0...1), drawn from the seeded generator.
    public func setFailureRate(_ rate: Double, for operations: Set<Operation> = Set(Operation.allCases)) {
        state.withLock {
            $0.failureRate = min(max(rate, 0), 1)
            $0.rateOperations = operations
        }
    }

    /// Delays every call of `operations` by `latency` (`.zero` removes the delay).
    public func setLatency(_ latency: Duration, for operations: Set<Operation> = Set(Operation.allCases)) {
        state.withLock { state in
            for operation in operations { state.latency[operation] = latency == .zero ? nil : latency }
        }
    }

    /// Stops every injected failure and delay and releases held calls (the counts stay).
    public func heal() {
        state.withLock {
            $0.alwaysFail = []
            $0.failureRate = 0
            $0.latency = [:]
        }
        release()
    }

    // MARK: Holding

    /// Makes calls of `operations` wait at a gate until ``release()``.
    public func hold(_ operations: Set<Operation>) {
        state.withLock { $0.held = operations }
    }

    /// Lets every held call continue and stops holding.
    public func release() {
        let waiting = state.withLock { state in
            state.held = []
            defer { state.heldCalls = [] }
            return state.heldCalls
        }
        for call in waiting { call.resume() }
    }

    /// Returns once at least `count` calls are waiting at the gate.
    public func waitForHeldCalls(_ count: Int) async {
        while state.withLock({ $0.heldCalls.count }) < count {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    // MARK: Counting

    /// How many times `operation` was called.
    public func callCount(_ operation: Operation) -> Int {
        state.withLock { $0.calls[operation] ?? 0 }
    }

    /// How many writing calls (everything but ``Operation/load``) were made.
    public var writeCount: Int {
        state.withLock { state in state.calls.filter { $0.key.isWrite }.reduce(0) { $0 + $1.value } }
    }

    /// How many calls were made in all.
    public var totalCount: Int {
        state.withLock { state in state.calls.values.reduce(0, +) }
    }

    /// Sets every count back to zero.
    public func resetCounts() {
        state.withLock { $0.calls = [:] }
    }

    private func intercept(_ operation: Operation) async throws {
        let mustWait = state.withLock { state in
            state.calls[operation, default: 0] += 1
            return state.held.contains(operation)
        }
        if mustWait {
            await withCheckedContinuation { (call: CheckedContinuation<Void, Never>) in
                let released = state.withLock { state in
                    guard state.held.contains(operation) else { return true }
                    state.heldCalls.append(call)
                    return false
                }
                if released { call.resume() }
            }
        }
        let (latency, shouldFail) = state.withLock { state -> (Duration?, Bool) in
            var fail = state.alwaysFail.contains(operation)
            if !fail, state.failureRate > 0, state.rateOperations.contains(operation) {
                let draw = Double(state.rng.next() >> 11) / Double(1 << 53)
                fail = draw < state.failureRate
            }
            return (state.latency[operation], fail)
        }
        if let latency { try await Task.sleep(for: latency) }
        if shouldFail { throw error }
    }

    // MARK: SessionStore

    public func load(_ key: SessionStorageKey) async throws -> StoredSession? {
        try await intercept(.load)
        return try await base.load(key)
    }

    public func create(_ key: SessionStorageKey, _ session: StoredSession) async throws {
        try await intercept(.create)
        try await base.create(key, session)
    }

    public func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        try await intercept(.apply)
        return try await base.apply(delta, to: key, expiresAt: expiresAt)
    }

    public func touch(_ key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
        try await intercept(.touch)
        return try await base.touch(key, expiresAt: expiresAt)
    }

    public func delete(_ key: SessionStorageKey) async throws {
        try await intercept(.delete)
        try await base.delete(key)
    }

    public func rename(_ old: SessionStorageKey, to new: SessionStorageKey) async throws -> Bool {
        try await intercept(.rename)
        return try await base.rename(old, to: new)
    }

    public func removeExpired() async throws -> Int {
        try await intercept(.removeExpired)
        return try await base.removeExpired()
    }
}
