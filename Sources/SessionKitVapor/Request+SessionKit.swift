public import SessionKit
public import Vapor

extension Request {
    /// The request's SessionKit session (Flask's `session`), loaded by ``SessionKitVaporMiddleware``.
    /// Named `sessionKit` because Vapor's `req.session` is Vapor's own session (of its
    /// `SessionsMiddleware`); both can live in one app.
    ///
    /// ```swift
    /// app.get("cart") { req in
    ///     let cart = req.sessionKit["cart", as: [String].self] ?? []
    ///     req.sessionKit.flash("Item added")
    ///     return cart.joined(separator: ", ")
    /// }
    /// ```
    ///
    /// Reading it on a route without the middleware is a programming error and stops with a
    /// message saying so.
    public var sessionKit: SessionKit.Session {
        guard let state = storage[SessionKitRequestState.Key.self] else {
            preconditionFailure("req.sessionKit needs SessionKitVaporMiddleware on this route: app.middleware.use(try SessionKitVaporMiddleware(...)) in configure.swift, or on the route's group")
        }
        return state.session
    }

    /// The request's cookies, parsed once by ``SessionKitVaporMiddleware`` (Flask's
    /// `request.cookies`); parsed from the `Cookie` headers on a route without it.
    ///
    /// ```swift
    /// let theme = req.sessionKitCookies.first("theme") ?? "light"
    /// ```
    public var sessionKitCookies: RequestCookies {
        storage[SessionKitRequestState.Key.self]?.cookies ?? RequestCookies(headers: headers[.cookie])
    }
}

/// What ``SessionKitVaporMiddleware`` keeps in a request's storage.
struct SessionKitRequestState: Sendable {
    struct Key: StorageKey {
        typealias Value = SessionKitRequestState
    }

    /// A reference: what the handler changes is what is committed.
    let session: SessionKit.Session
    let cookies: RequestCookies
}
