import Foundation
public import Logging
public import SessionKit
public import Vapor

/// Loads the request's session before the handler and commits it before the response leaves:
/// `Set-Cookie` for a changed session, a deletion for an emptied one, `Vary: Cookie` whenever the
/// session was used, and the `Cache-Control` the commit needs. The same framework-free
/// `SessionEngine` the Hummingbird module runs, with the same configuration and rules.
///
/// ```swift
/// // configure.swift
/// app.middleware.use(try SessionKitVaporMiddleware(secret: .environment("SESSIONKIT_SECRET")))
///
/// // routes.swift
/// app.get("set") { req in
///     req.sessionKit["username"] = "liefyuan"
///     return "success"
/// }
/// ```
///
/// The handler's session is `req.sessionKit` (Vapor's own `req.session` is left to
/// Vapor's `SessionsMiddleware`). A handler that throws an `AbortError` still has its session
/// committed as `SessionConfiguration.errorCommitPolicy` says (by default on 4xx, not
/// on 5xx); the error then becomes its response here, as Vapor's `ErrorMiddleware` would make it,
/// so that the response can carry the cookie. A store that fails answers 503 without logging the
/// user out; a session that does not fit in a cookie answers 500 and logs which keys are large.
///
/// The engine logs through each request's `req.logger` (so its lines carry the request's ID); the
/// `logger` given here serves only start-up messages.
public struct SessionKitVaporMiddleware: AsyncMiddleware {
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
    ///
    /// ```swift
    /// app.middleware.use(try SessionKitVaporMiddleware(secret: .environment("SECRET_KEY"), format: .flask))
    /// ```
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
    /// MAC too when `signingKeys` are given). Run the store with ``SessionKitStoreLifecycle``.
    ///
    /// ```swift
    /// let store = SQLiteSessionStore(path: "sessions.sqlite")
    /// app.lifecycle.use(SessionKitStoreLifecycle(store: store))
    /// app.middleware.use(try SessionKitVaporMiddleware(store: store))
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

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let cookies = RequestCookies(headers: request.headers[.cookie])
        let session: SessionKit.Session
        do {
            // The client's details are kept with server-side sessions only: cookie sessions skip the look-up.
            let client: SessionClientInfo
            if case .server = engine.storage {
                client = SessionClientInfo(userAgent: request.headers.first(name: .userAgent))
            } else {
                client = SessionClientInfo()
            }
            session = try await engine.load(from: cookies, client: client, logger: request.logger)
        } catch let error as SessionError where error.code == .storeUnavailable {
            throw Abort(.serviceUnavailable, reason: "Sessions are unavailable; please try again shortly.")
        }
        request.storage[SessionKitRequestState.Key.self] = SessionKitRequestState(session: session, cookies: cookies)

        let response: Response
        do {
            response = try await next.respond(to: request)
        } catch {
            // Commit as the status the error will answer; the error stays the app's to render
            // unless the commit has a cookie to send.
            let status = (error as? any AbortError)?.status ?? .internalServerError
            let commit = try await commit(session, status: status, request: request)
            guard !commit.setCookies.isEmpty else { throw error }
            let rendered = try await Self.render(error, for: request)
            Self.apply(commit, to: rendered)
            return rendered
        }
        Self.apply(try await commit(session, status: response.status, request: request), to: response)
        return response
    }

    private func commit(_ session: SessionKit.Session, status: HTTPResponseStatus, request: Request) async throws -> SessionCommit {
        do {
            return try await engine.commit(session, status: Int(status.code), logger: request.logger)
        } catch let error as SessionError where error.code == .cookieTooLarge {
            throw Abort(.internalServerError, reason: "The session is too large to store in a cookie.")
        } catch let error as SessionError where error.code == .storeUnavailable {
            throw Abort(.serviceUnavailable, reason: "The session could not be saved; please try again shortly.")
        }
    }

    /// Adds the commit's `Set-Cookie`, `Vary: Cookie` and `Cache-Control` (unless the handler set one).
    static func apply(_ commit: SessionCommit, to response: Response) {
        for cookie in commit.setCookies {
            response.headers.add(name: .setCookie, value: cookie.headerValue)
        }
        if commit.varyCookie { response.headers.addVaryCookie() }
        // No shared cache may hand one user's session cookie to another (unless the handler chose).
        if let cacheControl = commit.cacheControl, response.headers.first(name: .cacheControl) == nil {
            response.headers.replaceOrAdd(name: .cacheControl, value: cacheControl)
        }
    }

    /// The response Vapor's default `ErrorMiddleware` makes of `error`.
    static func render(_ error: any Error, for request: Request) async throws -> Response {
        try await ErrorMiddleware.default(environment: request.application.environment)
            .respond(to: request, chainingTo: Rethrowing(error: error)).get()
    }

    /// A responder that throws `error`, for `render(_:for:)`.
    private struct Rethrowing: AsyncResponder {
        let error: any Error
        func respond(to request: Request) async throws -> Response { throw error }
    }
}

extension HTTPHeaders {
    /// Adds `Cookie` to `Vary` unless it is there already.
    mutating func addVaryCookie() {
        for value in self[.vary] {
            for part in value.split(separator: ",") where part.trimmingCharacters(in: .whitespaces).caseInsensitiveCompare("Cookie") == .orderedSame {
                return
            }
        }
        add(name: .vary, value: "Cookie")
    }
}
