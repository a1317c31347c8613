import Logging
import SessionKit
import SessionKitTesting
import SessionKitVapor
import Synchronization
import Testing
import Vapor
import VaporTesting

/// Records every log line, with its metadata.
final class CapturedLogs: Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: Logger.Metadata
    }

    let lines = Mutex<[Line]>([])

    func handler(label: String) -> some LogHandler { Handler(logs: self) }

    struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata
            all.merge(event.metadata ?? [:]) { _, new in new }
            let line = Line(level: event.level, message: "\(event.message)", metadata: all)
            logs.lines.withLock { $0.append(line) }
        }
    }
}

@Suite("SessionKitVapor, logging")
struct VaporLoggingTests {
    /// The engine logs through `req.logger`: its lines carry Vapor's request ID, and never the
    /// session ID.
    @Test func engineLinesCarryTheRequestIDAndNoSessionID() async throws {
        let logs = CapturedLogs()
        let store = FaultInjectingSessionStore(MemorySessionStore())
        try await withApp(configure: { app in
            app.logger = Logger(label: "test") { logs.handler(label: $0) }
            app.middleware.use(try SessionKitVaporMiddleware(store: store))
            Fixture.routes(app)
        }) { app in
            let cookie = try #require(try await send(app, "set").cookiePair("session"))
            let id = String(cookie.dropFirst("session=".count))
            store.fail([.load])
            let response = try await send(app, "get", cookie: cookie)
            #expect(response.status == .serviceUnavailable)
            let lines = logs.lines.withLock { $0 }
            let outage = try #require(lines.first { $0.message.contains("session store unavailable") })
            #expect(outage.level == .error)
            #expect(outage.metadata["request-id"] != nil, "the line carries Vapor's request ID")
            for line in lines {
                #expect(!line.message.contains(id) && !line.metadata.values.contains { "\($0)".contains(id) }, "a session ID was logged")
            }
        }
    }
}
