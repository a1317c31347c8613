import HTTPTypes
import Hummingbird

/// The security headers on every response of the demo, errors and 404s included: a
/// Content-Security-Policy that allows only the demo's own resources (no inline script, no plugin,
/// forms only to the demo, never inside a frame), `X-Content-Type-Options: nosniff`,
/// `Referrer-Policy: same-origin` and the legacy `X-Frame-Options: DENY`. A header a handler set
/// itself is kept.
///
/// ```swift
/// router.add(middleware: DemoSecurityHeaders<Context>())   // first, so it wraps everything
/// ```
struct DemoSecurityHeaders<Context: RequestContext>: RouterMiddleware {
    /// No `'unsafe-inline'` anywhere: the pages' CSS is a file (`/app/demo.css`), they have no script.
    static var contentSecurityPolicy: String {
        "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    }

    static var fields: [(HTTPField.Name, String)] {
        [
            (.contentSecurityPolicy, contentSecurityPolicy),
            (.xContentTypeOptions, "nosniff"),
            (HTTPField.Name("Referrer-Policy")!, "same-origin"),
            (HTTPField.Name("X-Frame-Options")!, "DENY"),
        ]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // A 404, a 400 or a 503 is a response too: it gets the headers.
            response = try error.response(from: request, context: context)
        }
        for (name, value) in Self.fields where response.headers[name] == nil {
            response.headers[name] = value
        }
        return response
    }
}
