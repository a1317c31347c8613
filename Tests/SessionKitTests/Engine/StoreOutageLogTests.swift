import Logging
import Testing
@testable import SessionKit
import SessionKitTesting

/// A store outage is a 503 and one log line an operator can act on: it says the store is
/// unavailable and why, and never holds the session ID.
@Suite("Store outage log line")
struct StoreOutageLogTests {
    static let now: Int64 = 1_800_000_000

    @Test func theLineSaysWhatFailedAndWhy() async throws {
        let log = CountingLogHandler.Box()
        let logger = Logger(label: "test") { _ in CountingLogHandler(box: log) }
        let store = FaultInjectingSessionStore(MemorySessionStore(clock: { Self.now }))
        var configuration = SessionConfiguration()
        configuration.cookie.secure = false
        let engine = SessionEngine(storage: .server(store), configuration: configuration, logger: logger, clock: { Self.now })
        let session = try await engine.load(from: RequestCookies(header: ""))
        session["user"] = "ada"
        let commit = try await engine.commit(session)
        let id = try #require(commit.setCookies.first?.value)

        store.fail([.load])
        await #expect(throws: SessionError.self) { try await engine.load(from: RequestCookies(header: "session=\(id)")) }
        let line = try #require(log.messages.last { $0.contains("session store unavailable on load") })
        #expect(line.contains("error=injectedFault"), "\(line)")
        #expect(line.contains("reason="), "\(line)")
        #expect(!line.contains(id), "the log line must not hold the session ID")
    }
}
