import Foundation
public import Hummingbird
import HTTPTypes
public import Logging
import SessionKit
public import SessionKitDemoSupport
public import SessionKitHummingbird

/// The demo app's routes: the seeds' tutorial routes with the bodies of Flask's reference app, and
/// HTML pages a person uses (login, a counter, a cart, logout, flash messages).
///
/// ```swift
/// let router = try DemoRouter.build(options: options)
/// let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// try await app.runService()
/// ```
public enum DemoRouter {
    public typealias Context = BasicSessionKitRequestContext

    /// The router with the session middleware and every route. `store` keeps server-side
    /// sessions (``DemoOptions/storage`` other than `.cookie`); see ``DemoApp`` for opening one.
    /// The sessions' metrics and spans go where `observability` says.
    public static func build(
        options: DemoOptions, store: (any SessionUserIndex)? = nil, logger: Logger = Logger(label: "sessionkit-demo"),
        observability: SessionObservability = SessionObservability()
    ) throws -> Router<Context> {
        let router = Router(context: Context.self)
        // Security headers on every response, 404s and refusals included.
        router.add(middleware: DemoSecurityHeaders<Context>())
        let sessions = try sessionMiddleware(options: options, store: store, logger: logger, observability: observability)
        let routes = DemoRoutes(
            reads: router.group().add(middleware: sessions),
            // Requests that change state: a cross-site one is refused before the session is loaded.
            changes: router.group().add(middleware: DemoCrossSiteGuard<Context>()).add(middleware: sessions)
        )
        addTutorialRoutes(to: routes, namesTheUser: store != nil && !options.flaskCompatible)
        DemoPages(pages: try DemoTemplates.library(), store: store, clock: options.clock).addRoutes(to: routes)
        return router
    }

    static func sessionMiddleware(
        options: DemoOptions, store: (any SessionUserIndex)?, logger: Logger, observability: SessionObservability = SessionObservability()
    ) throws -> SessionKitMiddleware<Context> {
        let configuration = options.sessionConfiguration
        if let store, !options.flaskCompatible {
            return try SessionKitMiddleware(store: store, configuration: configuration, logger: logger, clock: options.clock, observability: observability)
        }
        let format: CookieSessionFormat
        if options.flaskCompatible {
            format = .flask
        } else {
            format = options.cookieFormat == .signed ? .signed : .encrypted
        }
        return try SessionKitMiddleware(
            secret: options.secret, previousSecrets: options.previousSecrets, format: format, configuration: configuration, logger: logger,
            clock: options.clock, observability: observability
        )
    }

    /// The route contract of Flask's reference app (`flask_ref_app.py`), body for body, except
    /// that what a route echoes is HTML-escaped (as `markupsafe.escape` does in Flask), since the
    /// bodies are `text/html`. The routes that write the session or a cookie are in `routes.changes`
    /// (refused when cross-site), the others in `routes.reads`.
    /// `namesTheUser`: with server-side sessions `POST /login` also sets the session's user
    /// (`_user_id`), so the engine gives the session a new ID at login.
    static func addTutorialRoutes(to routes: DemoRoutes, namesTheUser: Bool = false) {
        let router = routes.changes
        router.get("/") { request, context in
            context.session["username"] = DemoQuery(request)["username"] ?? "admin"
            return html("Session set")
        }
        routes.reads.get("/get") { _, context in
            html(DemoHTML.escape(context.session["username", as: String.self] ?? "not set"))
        }
        router.get("/delete/") { _, context in
            context.session.remove("username")
            return html("deleted")
        }
        router.get("/clear") { _, context in
            context.session.clear()
            return html("cleared")
        }
        routes.reads.get("/login") { _, _ in
            html(#"<form method="post"><input name="username"><input type="submit" value="Login"></form>"#)
        }
        router.post("/login") { request, context in
            let form = try await DemoForm(request: request)
            let username = form["username"] ?? ""
            context.session["username"] = username
            if namesTheUser, !username.isEmpty {
                // With server-side sessions the login names the session's user, so the engine gives
                // it a new ID (SessionConfiguration.regeneratesIDWhenUserChanges): an ID planted
                // before the login is dead after it. (Cookie sessions keep Flask's exact cookie.)
                context.session[.userID] = username
            }
            context.session.isPermanent = true
            return html("logged in as \(DemoHTML.escape(username))")
        }
        router.get("/counter") { _, context in
            let n = DemoCounter.increment(context.session.flaskValue("n"))
            context.session.setFlaskValue(n, for: "n")
            return html(DemoCounter.text(n))
        }
        router.get("/cookie/set") { request, _ in
            let query = DemoQuery(request)
            let value = query["value"] ?? "flask-user"
            guard let maxAge = Int(query["max_age"] ?? "3600") else {
                throw HTTPError(.badRequest, message: "max_age must be an integer")
            }
            var response = html("cookie set")
            // A value the client chose that makes no valid cookie (an expiry past year 9999, from
            // max_age=9223372036854775807) is the client's error: 400, never 500.
            let cookie: SetCookie
            do {
                cookie = try SetCookie.werkzeug(name: "user", value: value, maxAge: maxAge, now: Date())
            } catch let error as CookieError {
                throw HTTPError(.badRequest, message: error.message)
            }
            response.headers.append(HTTPField(name: .setCookie, value: cookie.headerValue))
            return response
        }
        routes.reads.get("/cookie/get") { request, _ in
            let cookies = RequestCookies(headers: request.headers[values: .cookie], decoding: .werkzeug)
            return html(DemoHTML.escape(cookies.first("user") ?? "no cookie"))
        }
        router.get("/typed/set") { _, context in
            context.session.setFlaskValue(DemoTypedValue.value, for: "typed")
            return html("typed set")
        }
        routes.reads.get("/typed/get") { _, context in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            let body = DemoTypedValue.describe(context.session.flaskValue("typed"))
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/cookie/delete") { _, _ in
            var response = html("cookie deleted")
            let cookie = try SetCookie.werkzeug(name: "user", value: "", now: Date()).deletion()
            response.headers.append(HTTPField(name: .setCookie, value: cookie.headerValue))
            return response
        }
    }

    /// A text/html response, as Flask sends its string bodies.
    static func html(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
