import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
public import Prometheus
public import SessionKit
import SessionKitPostgres
import SessionKitRedis
import SessionKitSQLite
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
    public static let storePasswordVariable = "SESSIONKIT_STORE_PASSWORD"

    /// The demo for `options`; its metrics go to `metrics` (a registry of its own by default).
    public init(
        options: DemoOptions, logger: Logger = Logger(label: "sessionkit-demo"),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) async throws {
        self.metrics = metrics
        switch options.flaskCompatible ? .cookie : options.storage {
        case .cookie:
            store = nil
            services = []
        case .memory:
            let memory = MemorySessionStore(clock: options.clock)
            store = memory
            services = [memory]
        case .sqlite(let path):
            let sqlite = SQLiteSessionStore(path: path, clock: options.clock)
            try await sqlite.migrate()
            store = sqlite
            services = [sqlite]
        case .redis(let url):
            var configuration = try RedisSessionStoreConfiguration(url: url)
            if configuration.password == nil { configuration.password = environment[Self.storePasswordVariable] }
            let redis = RedisSessionStore(configuration: configuration, clock: options.clock, logger: logger)
            store = redis
            services = [redis]
        case .postgres(let url):
            let parsed = try PostgresConnectionURL(url, passwordEnvironmentVariable: Self.storePasswordVariable, environment: environment)
            let postgres = try PostgresSessionStore(url: parsed, clock: options.clock, logger: logger)
            store = postgres
            services = [postgres]
        }
        let observability = SessionObservability(metricsFactory: PrometheusMetricsFactory(registry: metrics))
        router = try DemoRouter.build(options: options, store: store, logger: logger, observability: observability)
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.emitToString())))
        }
    }
}
