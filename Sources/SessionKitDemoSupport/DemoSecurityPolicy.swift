/// The security headers on every response of both demo servers, errors and 404s included: a
/// Content-Security-Policy that allows only the demo's own resources (no inline script, no plugin,
/// forms only to the demo, never inside a frame), `X-Content-Type-Options: nosniff`,
/// `Referrer-Policy: same-origin` and the legacy `X-Frame-Options: DENY`. A header a handler set
/// itself is kept (the middlewares add only missing ones).
///
/// ```swift
/// for (name, value) in DemoSecurityPolicy.headers where response.headers[name] == nil { ... }
/// ```
package enum DemoSecurityPolicy {
    /// No `'unsafe-inline'` anywhere: the pages' CSS is a file (`/app/demo.css`), they have no script.
    package static var contentSecurityPolicy: String {
        "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    }

    /// The headers, as (name, value).
    package static var headers: [(name: String, value: String)] {
        [
            ("Content-Security-Policy", contentSecurityPolicy),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
            ("X-Frame-Options", "DENY"),
        ]
    }
}
