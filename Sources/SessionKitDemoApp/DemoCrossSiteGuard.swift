import HTTPTypes
import Hummingbird
import Logging
import SessionKitDemoSupport

/// Cross-site request forgery protection for the demo's routes that change state (every POST, and
/// the tutorial GET routes that write the session or a cookie): a request a browser sent on behalf
/// of another site is refused with 403 before the session is even loaded. This does not rely on
/// SameSite (the Flask-compatible mode sends none, and SameSite=Lax still lets a sibling site, such
/// as another port or subdomain of the same host, send the cookie). The rule (`Sec-Fetch-Site`,
/// `Origin` against `Host`) is ``DemoCrossSitePolicy``'s, shared with the Vapor demo.
///
/// ```swift
/// let changes = router.group().add(middleware: DemoCrossSiteGuard<Context>()).add(middleware: sessions)
/// changes.post("/app/logout") { ... }
/// ```
struct DemoCrossSiteGuard<Context: RequestContext>: RouterMiddleware {
    static var secFetchSite: HTTPField.Name { HTTPField.Name("Sec-Fetch-Site")! }
    static var host: HTTPField.Name { HTTPField.Name("Host")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let reason = Self.refusal(request) {
            context.logger.notice("refused a cross-site request that would change state", metadata: ["reason": "\(reason)"])
            return Self.forbidden(reason)
        }
        return try await next(request, context)
    }

    /// Why `request` is refused, or nil when it may go on.
    static func refusal(_ request: Request) -> String? {
        DemoCrossSitePolicy.refusal(
            secFetchSite: request.headers[values: secFetchSite], origins: request.headers[values: .origin],
            host: request.head.authority ?? request.headers[Self.host]
        )
    }

    /// 403 with a plain-text explanation.
    static func forbidden(_ reason: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: .forbidden, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: DemoCrossSitePolicy.forbiddenBody(reason))))
    }
}
