import Logging
@testable import SessionKitPostgres
import SessionKitTesting
import Synchronization
import Testing

/// ``RaisedOnce`` and ``PostgresClientRunner``: a wait ends when the flag is raised or its task is
/// cancelled, in either order; the runner returns when its body stops, and within its grace when
/// the body will not stop (as postgres-nio's pool sometimes does), saying so in the log.
@Suite("PostgresClientRunner")
struct PostgresClientRunnerTests {
    @Test func aRaisedFlagEndsEveryWaitAndLaterOnesAtOnce() async {
        let flag = RaisedOnce()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<100 { group.addTask { await flag.wait() } }
            try? await Task.sleep(for: .milliseconds(20))
            #expect(!flag.isRaised)
            flag.raise()
        }
        #expect(flag.isRaised)
        await flag.wait()
    }

    @Test func aCancelledWaitEndsWithoutTheFlag() async {
        let flag = RaisedOnce()
        // Cancelled while waiting, and cancelled before it began.
        let waiting = Task { await flag.wait() }
        try? await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        await waiting.value
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await flag.wait()
        }
        await early.value
        #expect(!flag.isRaised)
    }

    @Test func aBodyThatStopsByItselfEndsTheRun() async {
        let stopped = await PostgresClientRunner.run(grace: .seconds(60), logger: Logger(label: "test")) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        #expect(stopped)
    }

    @Test func aCancelledRunCancelsItsBodyAndWaitsForIt() async {
        let bodyEnded = RaisedOnce()
        let run = Task {
            await PostgresClientRunner.run(grace: .seconds(60), logger: Logger(label: "test")) {
                try? await Task.sleep(for: .seconds(3600))
                try? await Task.sleep(for: .milliseconds(50))   // cancelled: returns at once too
                bodyEnded.raise()
            }
        }
        try? await Task.sleep(for: .milliseconds(20))
        let start = ContinuousClock.now
        run.cancel()
        #expect(await run.value)
        #expect(bodyEnded.isRaised, "the runner returned before its body ended")
        #expect(ContinuousClock.now - start < TestTimeScale.limit(.seconds(10)))
    }

    /// The case postgres-nio's pool can fall into: a `run()` that never returns. The runner gives
    /// up after its grace, logs it, and returns.
    @Test func aBodyThatNeverStopsIsLeftAfterTheGrace() async {
        let log = CountingLogHandler.Box()
        let logger = Logger(label: "test") { _ in CountingLogHandler(box: log) }
        let never = RaisedOnce()   // never raised; its wait ignores cancellation only in this body
        let run = Task {
            await PostgresClientRunner.run(grace: .milliseconds(200), logger: logger) {
                await Task.detached { await never.wait() }.value
            }
        }
        try? await Task.sleep(for: .milliseconds(20))
        let start = ContinuousClock.now
        run.cancel()
        #expect(await run.value == false)
        let waited = ContinuousClock.now - start
        #expect(waited >= .milliseconds(200))
        #expect(waited < TestTimeScale.limit(.seconds(10)))
        #expect(log.messages.contains { $0.hasPrefix("warning") && $0.contains("did not stop within") })
        never.raise()   // let the body's task end
    }
}
