public import Hummingbird
public import HummingbirdAuth
import SessionKit
public import SessionKitHummingbird

/// HummingbirdAuth's authenticator for SessionKit sessions: it reads the logged-in user's ID from
/// the session (`_user_id`, `StoredSession.userIDKey`, which
/// `Session.login(userID:)` sets), asks your user loader for the user (Flask-Login's
/// `user_loader`), and puts what it returns in `context.identity`. HummingbirdAuth's
/// `IsAuthenticatedMiddleware`, `requireIdentity()` and authorization policies work after it.
///
/// Add it after a `SessionKitMiddleware`, on a context that conforms to both
/// `SessionKitRequestContext` and HummingbirdAuth's `AuthRequestContext`
/// (or use ``BasicSessionKitAuthRequestContext``):
///
/// ```swift
/// import Hummingbird
/// import HummingbirdAuth
/// import SessionKit
/// import SessionKitHummingbird
/// import SessionKitHummingbirdAuth
///
/// struct AppContext: SessionKitRequestContext, AuthRequestContext {
///     var coreContext: CoreRequestContextStorage
///     var sessionState = SessionRequestState()
///     var identity: User?
///     init(source: Source) { self.coreContext = .init(source: source) }
/// }
///
/// let router = Router(context: AppContext.self)
/// router.add(middleware: try SessionKitMiddleware(store: SQLiteSessionStore(path: "sessions.sqlite")))
/// router.add(middleware: SessionKitAuthenticator(context: AppContext.self) { userID, _ in
///     try await users.find(id: userID)                 // nil: the user is gone, the request is anonymous
/// })
/// router.post("/login") { request, context in
///     let user = try await users.verify(request)
///     context.session.login(userID: user.id)           // a new session ID, and `_user_id`
///     return "welcome"
/// }
/// router.group("account")
///     .add(middleware: IsAuthenticatedMiddleware())    // 401 without a logged-in user
///     .get { _, context in try context.requireIdentity().name }
/// ```
///
/// A session without `_user_id`, or whose user the loader does not find, leaves the request
/// anonymous (`identity` stays `nil`) and the session as it is. An error the loader throws goes
/// up the middleware chain as it is.
public struct SessionKitAuthenticator<
    Context: SessionKitRequestContext & AuthRequestContext,
    Repository: UserSessionRepository<String, Context.Identity>
>: AuthenticatorMiddleware {
    public typealias Identity = Context.Identity

    /// Where users are looked up by the ID in the session.
    public let users: Repository

    /// An authenticator that looks users up in `users` (HummingbirdAuth's `UserSessionRepository`,
    /// with the session's user ID as its `Identifier`).
    ///
    /// ```swift
    /// router.add(middleware: SessionKitAuthenticator(users: userRepository, context: AppContext.self))
    /// ```
    public init(users: Repository, context: Context.Type = Context.self) {
        self.users = users
    }

    /// An authenticator that looks users up with `loadUser` (Flask-Login's `user_loader`): it gets
    /// the session's user ID and returns the user, or `nil` when there is none.
    ///
    /// ```swift
    /// router.add(middleware: SessionKitAuthenticator(context: AppContext.self) { userID, _ in
    ///     try await users.find(id: userID)
    /// })
    /// ```
    public init(
        context: Context.Type = Context.self,
        loadUser: @escaping @Sendable (_ userID: String, _ context: UserRepositoryContext) async throws -> Context.Identity?
    ) where Repository == UserSessionClosureRepository<String, Context.Identity> {
        self.users = UserSessionClosureRepository(loadUser)
    }

    /// The user named by the session's `_user_id`, or `nil`.
    public func authenticate(request: Request, context: Context) async throws -> Context.Identity? {
        guard let userID = context.session.userID else { return nil }
        return try await users.getUser(from: userID, context: UserRepositoryContext(logger: context.logger))
    }
}
