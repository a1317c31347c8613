import HTTPTypes
import Hummingbird
import SessionKitDemoSupport

/// The security headers of ``DemoSecurityPolicy`` on every response of the demo, errors and 404s
/// included. A header a handler set itself is kept.
///
/// ```swift
/// router.add(middleware: DemoSecurityHeaders<Context>())   // first, so it wraps everything
/// ```
struct DemoSecurityHeaders<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // A 404, a 400 or a 503 is a response too: it gets the headers.
            response = try error.response(from: request, context: context)
        }
        for (name, value) in DemoSecurityPolicy.headers {
            guard let field = HTTPField.Name(name), response.headers[field] == nil else { continue }
            response.headers[field] = value
        }
        return response
    }
}
