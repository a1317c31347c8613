public import Hummingbird
public import SessionKit

/// A request context that carries a session: add the conformance (one stored property) to your
/// own context, or use ``BasicSessionKitRequestContext``.
///
/// ```swift
/// struct AppContext: SessionKitRequestContext {
///     var coreContext: CoreRequestContextStorage
///     var sessionState = SessionRequestState()
///     init(source: Source) { self.coreContext = .init(source: source) }
/// }
/// router.get("/") { _, context in context.session["username", as: String.self] ?? "anonymous" }
/// ```
public protocol SessionKitRequestContext: RequestContext {
    /// Filled in by ``SessionKitMiddleware`` before the handler runs.
    var sessionState: SessionRequestState { get set }
}

extension SessionKitRequestContext {
    /// The request's session (Flask's `session`).
    public var session: Session { sessionState.session }
    /// The request's cookies, parsed once by the middleware (Flask's `request.cookies`).
    public var cookies: RequestCookies { sessionState.cookies }
}

/// What ``SessionKitMiddleware`` stores in a ``SessionKitRequestContext``.
///
/// ```swift
/// var sessionState = SessionRequestState()
/// ```
public struct SessionRequestState: Sendable {
    /// The request's session; a reference, so what the handler changes is what is committed.
    public internal(set) var session: Session
    /// The request's parsed `Cookie` headers.
    public internal(set) var cookies: RequestCookies

    public init() {
        self.session = Session()
        self.cookies = RequestCookies(header: "")
    }
}
