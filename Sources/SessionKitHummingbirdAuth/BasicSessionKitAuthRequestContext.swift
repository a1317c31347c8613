public import Hummingbird
public import HummingbirdAuth
public import SessionKitHummingbird

/// A ready-made request context with a SessionKit session and HummingbirdAuth's `identity`, for
/// ``SessionKitAuthenticator`` and HummingbirdAuth's `IsAuthenticatedMiddleware`. (An app with its
/// own context adds the two conformances to it instead.)
///
/// ```swift
/// let router = Router(context: BasicSessionKitAuthRequestContext<User>.self)
/// router.add(middleware: try SessionKitMiddleware(store: MemorySessionStore()))
/// router.add(middleware: SessionKitAuthenticator(context: BasicSessionKitAuthRequestContext<User>.self) { userID, _ in
///     await users.find(id: userID)
/// })
/// router.group("account").add(middleware: IsAuthenticatedMiddleware())
///     .get { _, context in try context.requireIdentity().name }
/// ```
public struct BasicSessionKitAuthRequestContext<Identity: Sendable>: SessionKitRequestContext, AuthRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var sessionState = SessionRequestState()
    /// The logged-in user, set by an authenticator such as ``SessionKitAuthenticator``.
    public var identity: Identity?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.identity = nil
    }
}
