public import CoreMetrics
public import Tracing

/// Where a ``SessionEngine`` reports its metrics and spans: a swift-metrics `MetricsFactory` and a
/// swift-distributed-tracing `Tracer`, each the process-wide one (`MetricsSystem.bootstrap`,
/// `InstrumentationSystem.bootstrap`) unless given here.
///
/// ```swift
/// let registry = PrometheusCollectorRegistry()
/// let engine = SessionEngine(
///     store: MemorySessionStore(),
///     observability: SessionObservability(metricsFactory: PrometheusMetricsFactory(registry: registry))
/// )
/// ```
///
/// The engine counts sessions created, regenerated, invalidated, expired and revoked, cookies
/// rejected (by reason), key-rotation re-issues, store errors and timeouts, and times every store
/// operation; each store operation also runs in a span named `sessionkit.store.<operation>`. No
/// label, dimension or attribute ever holds a session ID, a storage key or a secret: the
/// dimensions are fixed words (`storage`, `store`, `operation`, `reason`, `error`). Metric names:
///
/// | Name | Kind | Dimensions |
/// |------|------|------------|
/// | `sessionkit_sessions_created` | counter | `storage` |
/// | `sessionkit_sessions_regenerated` | counter | `storage` |
/// | `sessionkit_sessions_invalidated` | counter | `storage` |
/// | `sessionkit_sessions_expired` | counter | `storage` |
/// | `sessionkit_sessions_revoked` | counter | `storage` |
/// | `sessionkit_cookies_rejected` | counter | `storage`, `reason` |
/// | `sessionkit_key_rotation_reissues` | counter | `storage` |
/// | `sessionkit_store_errors` | counter | `store`, `operation`, `error` |
/// | `sessionkit_store_timeouts` | counter | `store`, `operation` |
/// | `sessionkit_store_operation_duration` | timer | `store`, `operation` |
///
/// `storage` is `cookie` for client-side sessions and the store's kind otherwise; `store` is the
/// store's kind (``storeKind(of:)``: `memory`, `sqlite`, `postgres`, `redis`, ...).
public struct SessionObservability: Sendable {
    /// The factory metrics are made with; `nil` uses `MetricsSystem.factory`, read when the engine
    /// is made.
    public var metricsFactory: (any MetricsFactory)?
    /// The tracer store spans go to; `nil` uses `InstrumentationSystem.tracer`, read at the
    /// engine's first store operation (bootstrap it before serving). With no tracer bootstrapped
    /// (the no-op one), the engine makes no spans at all.
    public var tracer: (any Tracer)?
    /// The `store` dimension and span attribute; `nil` derives it from the store's type
    /// (``storeKind(of:)``).
    public var storeKind: String?

    /// Metrics and spans through `metricsFactory` and `tracer`, or the process-wide ones.
    public init(metricsFactory: (any MetricsFactory)? = nil, tracer: (any Tracer)? = nil, storeKind: String? = nil) {
        self.metricsFactory = metricsFactory
        self.tracer = tracer
        self.storeKind = storeKind
    }

    /// The name metrics and spans give a store: its type's name, lowercased, without a
    /// `SessionStore` suffix or generic arguments (`MemorySessionStore` is `memory`,
    /// `SQLiteSessionStore` `sqlite`, `PostgresSessionStore` `postgres`, `RedisSessionStore`
    /// `redis`); a store that wraps another (such as SessionKitTesting's fault-injecting store) is
    /// named after the store it wraps.
    public static func storeKind(of store: any SessionStore) -> String {
        if let wrapper = store as? any WrappingSessionStore { return storeKind(of: wrapper.wrappedStore) }
        var name = String(describing: type(of: store))
        if let generic = name.firstIndex(of: "<") { name = String(name[..<generic]) }
        if let dot = name.lastIndex(of: ".") { name = String(name[name.index(after: dot)...]) }
        for suffix in ["SessionStore", "Store"] where name.hasSuffix(suffix) && name.count > suffix.count {
            name.removeLast(suffix.count)
            break
        }
        return name.lowercased()
    }
}
