import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SessionKit
import SessionKitDemoApp
import SessionKitDemoSupport
import SessionKitHummingbird
import SessionKitHummingbirdTesting
import Synchronization
import Testing

/// The middleware logs through the request's logger, and the demo serves its metrics at
/// `GET /metrics` in Prometheus's text format.
@Suite("Observability")
struct ObservabilityTests {
    /// Keeps every line logged through it, with its metadata.
    struct CapturingLogHandler: LogHandler {
        final class Lines: Sendable {
            private let lines = Mutex<[String]>([])
            var all: [String] { lines.withLock { $0 } }
            func append(_ line: String) { lines.withLock { $0.append(line) } }
        }

        let lines: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            lines.append("\(event.message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        }
    }

    @Test func engineLinesCarryTheRequestID() async throws {
        let appLines = CapturingLogHandler.Lines()
        let startupLines = CapturingLogHandler.Lines()
        var appLogger = Logger(label: "app") { _ in CapturingLogHandler(lines: appLines) }
        appLogger.logLevel = .debug
        let router = Router(context: BasicSessionKitRequestContext.self)
        router.add(middleware: try SessionKitMiddleware(
            store: MemorySessionStore(), logger: Logger(label: "startup") { _ in CapturingLogHandler(lines: startupLines) }
        ))
        router.get("/") { _, context in
            context.session["user"] = "ada"
            return "ok"
        }
        try await Application(router: router, logger: appLogger).test(.router) { client in
            let response = try await client.execute(uri: "/", method: .get, headers: [.cookie: "session=not-an-id"])
            #expect(response.status == .ok)
        }
        let rejected = try #require(appLines.all.first { $0.hasPrefix("session ID cookie rejected") })
        #expect(rejected.contains("hb.request.id="))
        let created = try #require(appLines.all.first { $0.hasPrefix("creating a server-side session") })
        #expect(created.contains("hb.request.id="))
        #expect(!startupLines.all.contains { $0.contains("session ID cookie rejected") })
    }

    @Test func demoServesPrometheusMetrics() async throws {
        let demo = try await DemoApp(options: DemoOptions(secret: Fixture.secret, storage: .memory))
        try await Application(router: demo.router).test(.router) { client in
            let login = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "username=ada")
            )
            #expect(login.status == .ok)
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(buffer: response.body)
            #expect(text.contains(#"sessionkit_sessions_created{storage="memory"} 1"#))
            #expect(text.contains("sessionkit_store_operation_duration"))
            #expect(text.contains(#"operation="create""#))
            #expect(text.contains("sessionkit_demo_memory_store_sessions 1"))
            // No session ID or cookie value in any line.
            let cookie = try #require(login.headers[.setCookie])
            let value = String(cookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1)[1])
            #expect(!text.contains(value))
        }
    }
}
