import Logging
import SessionKitTesting
import Testing
@testable import SessionKit

/// `load(from:client:logger:)` and `commit(_:status:logger:)` log through the logger they are
/// given (a request's, carrying its metadata), not the engine's.
@Suite("Request logger")
struct RequestLoggerTests {
    @Test func engineLogsThroughTheGivenLogger() async throws {
        let engineLog = CountingLogHandler.Box()
        let requestLog = CountingLogHandler.Box()
        let engine = SessionEngine(store: MemorySessionStore(), logger: Logger(label: "engine") { _ in CountingLogHandler(box: engineLog) })
        var requestLogger = Logger(label: "request") { _ in CountingLogHandler(box: requestLog) }
        requestLogger[metadataKey: "request_id"] = "r-1"

        let session = try await engine.load(from: RequestCookies(header: "session=not-an-id"), logger: requestLogger)
        session["user"] = "ada"
        _ = try await engine.commit(session, logger: requestLogger)
        #expect(requestLog.messages.contains { $0.contains("session ID cookie rejected") && $0.contains("request_id=r-1") })
        #expect(requestLog.messages.contains { $0.contains("creating a server-side session") && $0.contains("request_id=r-1") })
        #expect(engineLog.count == 0)

        // Without one, the engine's own logger.
        _ = try await engine.load(from: RequestCookies(header: "session=not-an-id"))
        #expect(engineLog.messages.contains { $0.contains("session ID cookie rejected") })
    }
}
