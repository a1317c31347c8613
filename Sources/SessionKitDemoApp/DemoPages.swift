import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import SessionKit
import SessionKitHummingbird

/// The demo's HTML pages under `/app`: home (who is logged in, a visit counter), login, a cart kept
/// in the session, and logout, with flash messages after login and logout.
struct DemoPages: Sendable {
    typealias Context = BasicSessionKitRequestContext

    let pages: MustacheLibrary
    /// The store of server-side sessions (`nil` for cookie sessions: no "active sessions" page).
    let store: (any SessionUserIndex)?
    let clock: @Sendable () -> Int64
    static let catalog = ["apple", "pear", "coffee", "tea", "bread"]
    static let cartKey = SessionKey<[String: Int]>("cart")
    /// The most of one item a cart holds.
    static let maximumQuantity = 1000

    /// The pages (`routes.reads`) and their forms' POSTs (`routes.changes`, refused cross-site).
    func addRoutes(to routes: DemoRoutes) {
        let router = routes.reads
        router.get("/app/demo.css") { _, _ in
            // The pages' CSS as a file: the Content-Security-Policy allows no inline style or script.
            var headers = HTTPFields()
            headers[.contentType] = "text/css; charset=utf-8"
            headers[.cacheControl] = "public, max-age=3600"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: DemoTemplates.css)))
        }
        router.get("/app") { _, context in
            let session = context.session
            let visits = session.get("visits", default: 0).addingReportingOverflow(1).partialValue
            session["visits"] = visits
            let cartCount = try Self.cart(session).values.reduce(0) { $0.addingReportingOverflow(max(0, $1)).partialValue }
            return page("home", title: "Home", context: context, values: ["visits": visits, "cartCount": cartCount])
        }
        router.get("/app/login") { _, context in
            page("login", title: "Log in", context: context)
        }
        routes.changes.post("/app/login") { request, context in
            let form = try await DemoForm(request: request)
            let username = (form["username"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !username.isEmpty, username.count <= 64 else {
                context.session.flash("Please enter a username (at most 64 characters).", category: "error")
                return Response.redirect(to: "/app/login", type: .found)
            }
            let session = context.session
            session.regenerateID()
            session["username"] = username
            session[.userID] = username
            session.isPermanent = true
            session.flash("Welcome, \(username)! You are logged in.", category: "success")
            return Response.redirect(to: "/app", type: .normal)
        }
        routes.changes.post("/app/logout") { _, context in
            let session = context.session
            let name = session["username", as: String.self]
            session.clear()
            session.regenerateID()
            session.flash(name.map { "Goodbye, \($0). You are logged out." } ?? "You are logged out.", category: "success")
            return Response.redirect(to: "/app", type: .normal)
        }
        addSessionRoutes(to: routes)
        router.get("/app/cart") { _, context in
            let cart = try Self.cart(context.session)
            let items = cart.keys.sorted().map { ["name": $0, "quantity": String(cart[$0] ?? 0)] }
            return page("cart", title: "Cart", context: context, values: ["items": items, "hasItems": !items.isEmpty, "catalog": Self.catalog])
        }
        routes.changes.post("/app/cart/add") { request, context in
            let item = try await DemoForm(request: request)["item"] ?? ""
            guard Self.catalog.contains(item) else { throw HTTPError(.badRequest, message: "unknown item") }
            // An atomic per-key operation: concurrent additions to one cart, on any app server of a
            // fleet sharing the store, all count (an assignment of the whole cart would lose some).
            guard try Self.cart(context.session)[item, default: 0] < Self.maximumQuantity else {
                throw HTTPError(.badRequest, message: "at most \(Self.maximumQuantity) of one item")
            }
            context.session.incrementField(item, by: 1, in: Self.cartKey.name)
            context.session.flash("Added one \(item).", category: "success")
            return Response.redirect(to: "/app/cart", type: .normal)
        }
        routes.changes.post("/app/cart/remove") { request, context in
            let item = try await DemoForm(request: request)["item"] ?? ""
            if try Self.cart(context.session)[item] != nil {
                context.session.incrementField(item, by: -1, in: Self.cartKey.name)   // removed at 0
            }
            return Response.redirect(to: "/app/cart", type: .normal)
        }
    }

    /// The cart, or an empty one. A cart that does not decode is an error, never silently replaced
    /// by an empty one (which the next write would store, losing the items).
    static func cart(_ session: Session) throws -> [String: Int] {
        try session.value(cartKey.name, as: [String: Int].self) ?? [:]
    }

    /// Renders `template` inside the layout, with the user and the flashes.
    func page(_ template: String, title: String, context: Context, values: [String: Any] = [:]) -> Response {
        var values = values
        let username = context.session["username", as: String.self]
        if let username { values["username"] = username }
        let content = pages.render(values, withTemplate: template) ?? ""
        let flashes = context.session.consumeFlashes().map { ["category": $0.category, "text": $0.text] }
        var layout: [String: Any] = ["title": title, "flashes": flashes, "content": content]
        if let username { layout["username"] = username }
        return DemoRouter.html(pages.render(layout, withTemplate: "layout") ?? "")
    }
}
