public import Hummingbird

/// A ready-made request context with a session.
///
/// ```swift
/// let router = Router(context: BasicSessionRequestContext.self)
/// router.add(middleware: try SessionMiddleware(secret: .environment("SESSIONKIT_SECRET")))
/// ```
public struct BasicSessionRequestContext: SessionRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var sessionState = SessionRequestState()

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }
}
