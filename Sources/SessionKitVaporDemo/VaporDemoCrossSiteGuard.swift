import SessionKitDemoSupport
import Vapor

/// Cross-site request forgery protection for the Vapor demo's routes that change state, the rule
/// of ``DemoCrossSitePolicy`` (the Hummingbird demo's): a request a browser sent on behalf of
/// another site (`Sec-Fetch-Site` other than `same-origin`/`none`, or an `Origin` that is not this
/// server's `Host`) is refused with 403 before the session is loaded.
///
/// ```swift
/// let changes = app.grouped(VaporDemoCrossSiteGuard()).grouped(sessions)
/// ```
struct VaporDemoCrossSiteGuard: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let refusal = DemoCrossSitePolicy.refusal(
            secFetchSite: request.headers["Sec-Fetch-Site"], origins: request.headers[.origin],
            host: request.headers.first(name: .host)
        )
        guard let refusal else { return try await next.respond(to: request) }
        request.logger.notice("refused a cross-site request that would change state", metadata: ["reason": "\(refusal)"])
        return Response(
            status: .forbidden, headers: ["Content-Type": "text/plain; charset=utf-8"],
            body: .init(string: DemoCrossSitePolicy.forbiddenBody(refusal))
        )
    }
}
