import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
public import SessionKit

/// Loads the request's session before the handler and commits it before the response leaves:
/// `Set-Cookie` for a changed session, a deletion for an emptied one, `Vary: Cookie` whenever the
/// session was used.
///
/// ```swift
/// let router = Router(context: BasicSessionKitRequestContext.self)
/// router.add(middleware: try SessionKitMiddleware(secret: .environment("SESSIONKIT_SECRET")))
/// router.get("/") { _, context in
///     context.session["username"] = "liefyuan"
///     return "success"
/// }
/// ```
///
/// A handler that throws an `HTTPResponseError` still has its session committed as
/// ``/SessionKit/SessionConfiguration/errorCommitPolicy`` says (by default on 4xx, not on 5xx). A session that
/// does not fit in a cookie answers 500 and logs which keys are large.
///
/// The engine logs through each request's `context.logger` (so its lines carry `hb.request.id`);
/// the `logger` given here serves only start-up messages. Metrics and spans go where
/// `observability` says (``/SessionKit/SessionObservability``).
public struct SessionKitMiddleware<Context: SessionKitRequestContext>: RouterMiddleware {
    /// The engine that loads and commits.
    public let engine: SessionEngine

    /// A middleware running `engine`; throws when its configuration is invalid.
    public init(engine: SessionEngine) throws {
        try engine.configuration.validate()
        self.engine = engine
    }

    /// Cookie sessions in `format` (encrypted by default) under `secret`; `previousSecrets` (newest
    /// first) still verify during a key rotation. Throws a configuration error for a secret under 32
    /// bytes (the Flask format accepts any key, as Flask does, and logs a warning).
    public init(
        secret: SessionSecret,
        previousSecrets: [SessionSecret] = [],
        format: CookieSessionFormat = .encrypted,
        configuration: SessionConfiguration = SessionConfiguration(),
        logger: Logger = Logger(label: "SessionKit"),
        clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        observability: SessionObservability = SessionObservability()
    ) throws {
        try self.init(engine: SessionEngine(
            secret: secret, previousSecrets: previousSecrets, format: format, configuration: configuration,
            logger: logger, clock: clock, observability: observability
        ))
    }

    /// Server-side sessions in `store`: only a random session ID travels in the cookie (with a
    /// MAC too when `signingKeys` are given).
    ///
    /// ```swift
    /// let store = SQLiteSessionStore(path: "sessions.sqlite")
    /// router.add(middleware: try SessionKitMiddleware(store: store))
    /// ```
    public init(
        store: any SessionStore,
        signingKeys: KeyRing? = nil,
        configuration: SessionConfiguration = SessionConfiguration(),
        logger: Logger = Logger(label: "SessionKit"),
        clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        observability: SessionObservability = SessionObservability()
    ) throws {
        try self.init(engine: SessionEngine(
            store: store, signingKeys: signingKeys, configuration: configuration, logger: logger, clock: clock,
            observability: observability
        ))
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let cookies = RequestCookies(headers: request.headers[values: .cookie])
        context.sessionState.cookies = cookies
        let session: Session
        do {
            // The client's details are kept with server-side sessions only: cookie sessions skip the look-up.
            let client: SessionClientInfo
            if case .server = engine.storage {
                client = SessionClientInfo(userAgent: request.headers[.userAgent])
            } else {
                client = SessionClientInfo()
            }
            // The engine logs through the request's logger, so its lines carry the request's ID.
            session = try await engine.load(from: cookies, client: client, logger: context.logger)
        } catch let error as SessionError where error.code == .storeUnavailable {
            throw HTTPError(.serviceUnavailable, message: "Sessions are unavailable; please try again shortly.")
        }
        context.sessionState.session = session

        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        let commit: SessionCommit
        do {
            commit = try await engine.commit(session, status: response.status.code, logger: context.logger)
        } catch let error as SessionError where error.code == .cookieTooLarge {
            throw HTTPError(.internalServerError, message: "The session is too large to store in a cookie.")
        } catch let error as SessionError where error.code == .storeUnavailable {
            throw HTTPError(.serviceUnavailable, message: "The session could not be saved; please try again shortly.")
        }
        for cookie in commit.setCookies {
            response.headers.append(HTTPField(name: .setCookie, value: cookie.headerValue))
        }
        if commit.varyCookie { response.headers.addVaryCookie() }
        // No shared cache may hand one user's session cookie to another (unless the handler chose).
        if let cacheControl = commit.cacheControl, response.headers[.cacheControl] == nil {
            response.headers[.cacheControl] = cacheControl
        }
        return response
    }
}

extension HTTPFields {
    /// `Vary: Cookie`, made once: making an `HTTPField` checks its value byte by byte.
    static let varyCookie = HTTPField(name: .vary, value: "Cookie")

    /// Adds `Cookie` to `Vary` unless it is there already.
    mutating func addVaryCookie() {
        for value in self[values: .vary] {
            for part in value.split(separator: ",") where part.trimmingCharacters(in: .whitespaces).caseInsensitiveCompare("Cookie") == .orderedSame {
                return
            }
        }
        append(Self.varyCookie)
    }
}
