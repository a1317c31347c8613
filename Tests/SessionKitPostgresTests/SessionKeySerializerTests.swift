import SessionKit
import Synchronization
import Testing
@testable import SessionKitPostgres

@Suite("SessionKeySerializer")
struct SessionKeySerializerTests {
    final class Counter: Sendable {
        let state = Mutex((running: 0, most: 0, order: [Int]()))
        func enter(_ index: Int) { state.withLock { $0.running += 1; $0.most = max($0.most, $0.running); $0.order.append(index) } }
        func leave() { state.withLock { $0.running -= 1 } }
    }

    /// Many concurrent operations on one key: never two at once, all of them run, nothing left behind.
    @Test func oneKeyRunsOneAtATime() async throws {
        let serializer = SessionKeySerializer()
        let key = SessionID().storageKey
        let counter = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<64 {
                group.addTask {
                    try await serializer.run(key) {
                        counter.enter(index)
                        for _ in 0..<3 { await Task.yield() }
                        counter.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        let state = counter.state.withLock { $0 }
        #expect(state.most == 1)
        #expect(state.order.count == 64)
        #expect(serializer.busyKeys == 0)
    }

    /// An operation on another key is not held up: the first key's operation waits for the second
    /// key's to finish, which would never happen if keys shared one queue.
    @Test(.timeLimit(.minutes(1)))
    func otherKeysRunConcurrently() async throws {
        let serializer = SessionKeySerializer()
        let (first, second) = (SessionID().storageKey, SessionID().storageKey)
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        async let waiting: Void = serializer.run(first) {
            for await _ in stream { return }
        }
        try await serializer.run(second) { continuation.yield() }
        try await waiting
        #expect(serializer.busyKeys == 0)
    }

    /// A failing operation hands the key on like any other.
    @Test func anErrorReleasesTheKey() async throws {
        struct Failure: Error {}
        let serializer = SessionKeySerializer()
        let key = SessionID().storageKey
        await #expect(throws: Failure.self) { try await serializer.run(key) { throw Failure() } }
        #expect(try await serializer.run(key) { 42 } == 42)
        #expect(serializer.busyKeys == 0)
    }
}
