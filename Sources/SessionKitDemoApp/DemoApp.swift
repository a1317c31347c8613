import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
public import Prometheus
public import SessionKit
public import SessionKitDemoSupport
public import ServiceLifecycle

/// The demo app ready to run: its router, the store behind server-side sessions, and the services
/// (store cleanup, SQLite lifecycle) that must run beside the server. `GET /metrics` answers the
/// sessions' metrics (`sessionkit_*`) in Prometheus's text format, from ``metrics``.
///
/// ```swift
/// let demo = try await DemoApp(options: options)
/// let app = Application(router: demo.router, services: demo.services)
/// try await app.runService()
/// ```
public struct DemoApp {
    public let router: Router<DemoRouter.Context>
    /// The server-side store, if sessions are not in cookies.
    public let store: (any SessionUserIndex)?
    /// Services to run with the application (cleanup loops; SQLite closes when they stop).
    public let services: [any Service]
    /// The registry the sessions' metrics are kept in (served at `GET /metrics`).
    public let metrics: PrometheusCollectorRegistry

    /// The environment variable a store's password may come from when its URL has none.
    public static let storePasswordVariable = DemoServerStore.passwordVariable

    /// The demo for `options`; its metrics go to `metrics` (a registry of its own by default).
    public init(
        options: DemoOptions, logger: Logger = Logger(label: "sessionkit-demo"),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) async throws {
        self.metrics = metrics
        let opened = try await DemoServerStore.open(options: options, logger: logger, environment: environment)
        store = opened
        services = opened.map { [$0 as any Service] } ?? []
        let observability = SessionObservability(metricsFactory: PrometheusMetricsFactory(registry: metrics))
        router = try DemoRouter.build(options: options, store: store, logger: logger, observability: observability)
        // How many sessions the memory store holds (expired ones not yet removed included): nothing
        // outside this process can count them otherwise (scripts/soak reads it each minute).
        let memorySessions = (store as? MemorySessionStore).map { memory in
            (store: memory, gauge: metrics.makeGauge(descriptor: MetricNameDescriptor(
                namespace: "sessionkit", subsystem: "demo", metricName: "memory_store", unitName: "sessions",
                helpText: "Sessions held by the demo's memory store, expired ones not yet removed included."
            )))
        }
        router.get("/metrics") { _, _ in
            if let memorySessions { memorySessions.gauge.set(Int64(memorySessions.store.count)) }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.emitToString())))
        }
    }
}
