import SessionKitDemoSupport
import Vapor

/// The security headers of ``DemoSecurityPolicy`` on every response of the Vapor demo (installed
/// outside Vapor's `ErrorMiddleware`, so 404s and errors get them too). A header a handler set
/// itself is kept.
///
/// ```swift
/// app.middleware.use(VaporDemoSecurityHeaders())   // before ErrorMiddleware
/// ```
struct VaporDemoSecurityHeaders: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        for (name, value) in DemoSecurityPolicy.headers where !response.headers.contains(name: name) {
            response.headers.replaceOrAdd(name: name, value: value)
        }
        return response
    }
}
