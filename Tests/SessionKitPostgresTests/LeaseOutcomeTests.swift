import SessionKitTesting
import Testing

@testable import SessionKitPostgres

/// The answer a lease's caller waits for: the first of the lease, the timer and the cancellation
/// wins, whenever the caller starts waiting, and a late lease changes nothing.
@Suite("LeaseOutcome")
struct LeaseOutcomeTests {
    struct Late: Error {}

    @Test func theFirstAnswerWinsBeforeTheCallerWaits() async throws {
        let outcome = LeaseOutcome<Int>()
        outcome.finish(.failure(LeaseTimeout()))
        outcome.finish(.success(42))   // the lease that came too late
        await #expect(throws: LeaseTimeout.self) { try await outcome.value() }
    }

    @Test func theFirstAnswerWinsWhileTheCallerWaits() async throws {
        let outcome = LeaseOutcome<Int>()
        async let value = outcome.value()
        // Let the caller start waiting, then answer twice.
        try await Task.sleep(for: .milliseconds(20))
        outcome.finish(.success(7))
        outcome.finish(.failure(Late()))
        #expect(try await value == 7)
    }

    /// A timer that fires while the lease is still waiting answers the caller at once, even when
    /// the lease itself never ends (a pool that does not end a cancelled wait).
    @Test func aTimeoutDoesNotWaitForTheLease() async throws {
        let outcome = LeaseOutcome<Int>()
        let clock = ContinuousClock()
        let start = clock.now
        Task {
            try await Task.sleep(for: .milliseconds(50))
            outcome.finish(.failure(LeaseTimeout()))
        }
        await #expect(throws: LeaseTimeout.self) { try await outcome.value() }
        #expect(clock.now - start < TestTimeScale.limit(.seconds(30)))
    }
}
