import Hummingbird
import SessionKitHummingbird

/// Where the demo registers a route: `reads` for routes that only read (pages, `/get`), `changes`
/// for routes that change the session or set a cookie (every POST, and the tutorial GET routes that
/// write), which sit behind ``DemoCrossSiteGuard``. Both load the session.
///
/// ```swift
/// routes.reads.get("/app/cart") { ... }
/// routes.changes.post("/app/cart/add") { ... }
/// ```
struct DemoRoutes {
    typealias Context = BasicSessionKitRequestContext

    let reads: RouterGroup<Context>
    let changes: RouterGroup<Context>
}
