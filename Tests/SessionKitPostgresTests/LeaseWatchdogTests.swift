import Testing

@testable import SessionKitPostgres

/// The one timer behind the PostgreSQL store's connection timeout; these need no server.
@Suite("LeaseWatchdog")
struct LeaseWatchdogTests {
    @Test func aLeaseStillWatchedAfterItsTimeoutExpiresOnce() async throws {
        let watchdog = LeaseWatchdog(timeout: .milliseconds(20))
        let calls = EventCount()
        _ = watchdog.watch { calls.record() }
        try await calls.wait(for: 1)
        #expect(calls.value == 1)
        #expect(watchdog.expiredCount == 1)
        #expect(watchdog.watchedCount == 0, "an expired lease is forgotten")
        // It is not called again.
        try await Task.sleep(for: .milliseconds(60))
        #expect(calls.value == 1)
    }

    @Test func anUnwatchedLeaseNeverExpires() async throws {
        let watchdog = LeaseWatchdog(timeout: .milliseconds(20))
        let unwatched = EventCount()
        let watched = EventCount()
        let ticket = watchdog.watch { unwatched.record() }
        watchdog.unwatch(ticket)
        // A later lease that does expire shows the watchdog ran past the first one's deadline.
        _ = watchdog.watch { watched.record() }
        try await watched.wait(for: 1)
        #expect(watched.value == 1)
        #expect(unwatched.value == 0)
        #expect(watchdog.expiredCount == 1)
    }

    @Test func onlyTheLeasesStillWatchedExpire() async throws {
        let watchdog = LeaseWatchdog(timeout: .milliseconds(30))
        let calls = EventCount()
        var tickets: [UInt64] = []
        for _ in 0..<100 {
            tickets.append(watchdog.watch { calls.record() })
        }
        for ticket in tickets where ticket % 2 == 0 {
            watchdog.unwatch(ticket)
        }
        try await calls.wait(for: 50)
        try await Task.sleep(for: .milliseconds(60))
        #expect(calls.value == 50)
        #expect(watchdog.watchedCount == 0)
    }

    @Test func startsAgainAfterGoingIdle() async throws {
        let watchdog = LeaseWatchdog(timeout: .milliseconds(10))
        let calls = EventCount()
        for round in 1...3 {
            _ = watchdog.watch { calls.record() }
            try await calls.wait(for: round)
            #expect(calls.value == round)
            // Idle: the watchdog's task ends once nothing is watched.
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(watchdog.expiredCount == 3)
    }

    @Test func aLeaseThatEndsInTimeIsNotExpiredWhileOthersWait() async throws {
        let watchdog = LeaseWatchdog(timeout: .milliseconds(200))
        let early = EventCount()
        let late = EventCount()
        let short = watchdog.watch { early.record() }
        try await Task.sleep(for: .milliseconds(20))
        _ = watchdog.watch { late.record() }
        watchdog.unwatch(short)
        try await late.wait(for: 1)
        #expect(early.value == 0)
        #expect(late.value == 1)
    }
}
