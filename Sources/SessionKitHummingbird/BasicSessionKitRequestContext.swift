public import Hummingbird

/// A ready-made request context with a session.
///
/// ```swift
/// let router = Router(context: BasicSessionKitRequestContext.self)
/// router.add(middleware: try SessionKitMiddleware(secret: .environment("SESSIONKIT_SECRET")))
/// ```
public struct BasicSessionKitRequestContext: SessionKitRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var sessionState = SessionRequestState()

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }
}
