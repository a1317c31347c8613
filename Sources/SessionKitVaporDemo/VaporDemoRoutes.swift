import Foundation
import Logging
import SessionKit
import SessionKitDemoSupport
import SessionKitVapor
import Vapor

/// The tutorial routes of Flask's reference app (`flask_ref_app.py`) on Vapor, body for body as the
/// Hummingbird demo serves them (`DemoRouter.addTutorialRoutes`): what a route echoes is
/// HTML-escaped as `markupsafe.escape` does, bodies are `text/html; charset=utf-8`, plain cookies
/// are written as Werkzeug writes them. Routes that write the session or a cookie are registered
/// on `changes` (behind ``VaporDemoCrossSiteGuard``), the others on `reads`.
///
/// ```swift
/// VaporDemoRoutes(reads: app.grouped(sessions), changes: app.grouped(VaporDemoCrossSiteGuard()).grouped(sessions))
///     .addTutorialRoutes()
/// ```
struct VaporDemoRoutes {
    let reads: any RoutesBuilder
    let changes: any RoutesBuilder

    /// The session middleware for `options`: Flask's cookie format with Flask's defaults in
    /// Flask-compatible mode, else the store's sessions, else encrypted or signed cookies.
    static func sessionMiddleware(options: DemoOptions, store: (any SessionUserIndex)?, logger: Logger) throws -> SessionKitVaporMiddleware {
        let configuration = options.sessionConfiguration
        if let store, !options.flaskCompatible {
            return try SessionKitVaporMiddleware(store: store, configuration: configuration, logger: logger, clock: options.clock)
        }
        let format: CookieSessionFormat = options.flaskCompatible ? .flask : (options.cookieFormat == .signed ? .signed : .encrypted)
        return try SessionKitVaporMiddleware(
            secret: options.secret, previousSecrets: options.previousSecrets, format: format, configuration: configuration,
            logger: logger, clock: options.clock
        )
    }

    /// `namesTheUser`: with server-side sessions `POST /login` also sets the session's user
    /// (`_user_id`), so the engine gives the session a new ID at login (as the Hummingbird demo does).
    func addTutorialRoutes(namesTheUser: Bool = false) {
        changes.get { request in
            request.sessionKit["username"] = Self.query(request)["username"] ?? "admin"
            return Self.html("Session set")
        }
        reads.get("get") { request in
            Self.html(DemoHTML.escape(request.sessionKit["username", as: String.self] ?? "not set"))
        }
        // Vapor's router ignores a trailing slash: this is Flask's "/delete/".
        changes.get("delete") { request in
            request.sessionKit.remove("username")
            return Self.html("deleted")
        }
        changes.get("clear") { request in
            request.sessionKit.clear()
            return Self.html("cleared")
        }
        reads.get("login") { _ in
            Self.html(#"<form method="post"><input name="username"><input type="submit" value="Login"></form>"#)
        }
        changes.post("login") { request in
            let username = DemoQuery(query: request.body.string ?? "")["username"] ?? ""
            let session = request.sessionKit
            session["username"] = username
            if namesTheUser, !username.isEmpty {
                session[.userID] = username
            }
            session.isPermanent = true
            return Self.html("logged in as \(DemoHTML.escape(username))")
        }
        changes.get("counter") { request in
            let n = DemoCounter.increment(request.sessionKit.flaskValue("n"))
            request.sessionKit.setFlaskValue(n, for: "n")
            return Self.html(DemoCounter.text(n))
        }
        changes.get("cookie", "set") { request in
            let query = Self.query(request)
            guard let maxAge = Int(query["max_age"] ?? "3600") else {
                throw Abort(.badRequest, reason: "max_age must be an integer")
            }
            // A max_age that makes no valid cookie (an expiry past year 9999) is the client's error: 400.
            let cookie: SetCookie
            do {
                cookie = try SetCookie.werkzeug(name: "user", value: query["value"] ?? "flask-user", maxAge: maxAge, now: Date())
            } catch let error as CookieError {
                throw Abort(.badRequest, reason: error.message)
            }
            let response = Self.html("cookie set")
            response.headers.add(name: .setCookie, value: cookie.headerValue)
            return response
        }
        reads.get("cookie", "get") { request in
            let cookies = RequestCookies(headers: request.headers[.cookie], decoding: .werkzeug)
            return Self.html(DemoHTML.escape(cookies.first("user") ?? "no cookie"))
        }
        changes.get("typed", "set") { request in
            request.sessionKit.setFlaskValue(DemoTypedValue.value, for: "typed")
            return Self.html("typed set")
        }
        reads.get("typed", "get") { request in
            Response(
                status: .ok, headers: ["Content-Type": "application/json"],
                body: .init(string: DemoTypedValue.describe(request.sessionKit.flaskValue("typed")))
            )
        }
        changes.get("cookie", "delete") { _ in
            let response = Self.html("cookie deleted")
            let cookie = try SetCookie.werkzeug(name: "user", value: "", now: Date()).deletion()
            response.headers.add(name: .setCookie, value: cookie.headerValue)
            return response
        }
    }

    /// The query string read as Flask reads `request.args` (`+` is a space).
    static func query(_ request: Request) -> DemoQuery {
        DemoQuery(query: request.url.query ?? "")
    }

    /// A text/html response, as Flask sends its string bodies.
    static func html(_ body: String) -> Response {
        Response(status: .ok, headers: ["Content-Type": "text/html; charset=utf-8"], body: .init(string: body))
    }
}
