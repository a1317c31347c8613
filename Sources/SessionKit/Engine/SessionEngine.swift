import CoreMetrics
import Logging

/// The framework-free lifecycle every integration runs: **load** the session from the request's
/// cookies, let the handler work on it, **commit** it before the response head leaves.
///
/// ```swift
/// let engine = SessionEngine(codec: try EncryptedSessionCodec(keys: keys))
/// let session = try await engine.load(from: RequestCookies(header: cookieHeader))
/// session["username"] = "alice"
/// let commit = try await engine.commit(session, status: 200)
/// for cookie in commit.setCookies { print("Set-Cookie: \(cookie.headerValue)") }
/// if commit.varyCookie { print("Vary: Cookie") }
/// if let cacheControl = commit.cacheControl { print("Cache-Control: \(cacheControl)") }  // unless the handler set one
/// ```
public struct SessionEngine: Sendable {
    /// Where sessions live: in the cookie itself, or in a store with only an ID in the cookie.
    public enum Storage: Sendable {
        /// Client-side sessions: the whole session in a cookie of the codec's format.
        case cookie(any SessionCodec)
        /// Server-side sessions: a session ID in the cookie, the data in the store.
        case server(any SessionStore)
    }

    /// Where sessions live.
    public let storage: Storage
    public let configuration: SessionConfiguration
    /// Server-side sessions: signs ID cookies (``SessionIDSigner``), if configured.
    public let idSigner: SessionIDSigner?
    /// The engine's own logger: used when a load or commit is given none (see
    /// ``load(from:client:logger:)``).
    private(set) var logger: Logger
    /// Metrics and spans (``SessionObservability``).
    let instruments: SessionInstruments
    let clock: @Sendable () -> Int64
    /// The session cookie with the configured attributes, validated once (`nil` when they are
    /// invalid: ``sessionCookie(value:expires:)`` then throws what is wrong).
    private let sessionCookieTemplate: SetCookie?

    /// An engine for client-side sessions in cookies of `codec`'s format.
    public init(
        codec: any SessionCodec,
        configuration: SessionConfiguration = SessionConfiguration(),
        logger: Logger = Logger(label: "SessionKit"),
        clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        observability: SessionObservability = SessionObservability()
    ) {
        self.init(storage: .cookie(codec), configuration: configuration, logger: logger, clock: clock, observability: observability)
    }

    /// Cookie sessions in `format` under `secret` (`previousSecrets`, newest first, still verify
    /// during a key rotation), with `configuration` validated: what each framework's middleware
    /// builds from the same arguments. Throws a configuration error for an invalid configuration
    /// or a secret under 32 bytes (the Flask format accepts any key, as Flask does, and logs a warning).
    ///
    /// ```swift
    /// let engine = try SessionEngine(secret: .environment("SESSIONKIT_SECRET"), format: .encrypted)
    /// ```
    public init(
        secret: SessionSecret,
        previousSecrets: [SessionSecret] = [],
        format: CookieSessionFormat,
        configuration: SessionConfiguration = SessionConfiguration(),
        logger: Logger = Logger(label: "SessionKit"),
        clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        observability: SessionObservability = SessionObservability()
    ) throws {
        try configuration.validate()
        let codec = try format.makeCodec(secret: secret, previousSecrets: previousSecrets, logger: logger)
        self.init(codec: codec, configuration: configuration, logger: logger, clock: clock, observability: observability)
    }

    /// An engine for server-side sessions kept in `store`. With `signingKeys`, ID cookies also
    /// carry a MAC (``SessionIDSigner``), checked before any store access.
    public init(
        store: any SessionStore,
        signingKeys: KeyRing? = nil,
        configuration: SessionConfiguration = SessionConfiguration(),
        logger: Logger = Logger(label: "SessionKit"),
        clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        observability: SessionObservability = SessionObservability()
    ) {
        self.init(storage: .server(store), idSigner: signingKeys.map(SessionIDSigner.init(keys:)), configuration: configuration, logger: logger, clock: clock, observability: observability)
    }

    /// An engine for `storage`; metrics and spans go where `observability` says (by default the
    /// process-wide `MetricsSystem` and `InstrumentationSystem`).
    public init(
        storage: Storage, idSigner: SessionIDSigner? = nil, configuration: SessionConfiguration, logger: Logger,
        clock: @escaping @Sendable () -> Int64, observability: SessionObservability = SessionObservability()
    ) {
        self.storage = storage
        switch storage {
        case .cookie: self.instruments = SessionInstruments(observability: observability, store: nil)
        case .server(let store): self.instruments = SessionInstruments(observability: observability, store: store)
        }
        self.idSigner = idSigner
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.sessionCookieTemplate = try? Self.sessionCookie(configuration.cookie, value: "", expires: nil)
    }

    /// The session a request carries, or a new empty session. A bad cookie is never an error: it
    /// is logged (without its value) and ignored. Throws ``SessionError/Code/storeUnavailable``
    /// only when a store fails and ``SessionConfiguration/storeFailurePolicy`` says to fail closed.
    ///
    /// The engine logs through `logger` when given one, such as the request's logger of a web
    /// framework, so that its lines carry the request's metadata (its ID); otherwise through the
    /// logger it was made with.
    public func load(from cookies: RequestCookies, client: SessionClientInfo = SessionClientInfo(), logger: Logger? = nil) async throws -> Session {
        let engine = logging(to: logger)
        switch storage {
        case .cookie(let codec): return engine.loadCookie(from: cookies, codec: codec)
        case .server(let store): return try await engine.loadServer(from: cookies, store: store, client: client)
        }
    }

    /// This engine, logging through `logger` when one is given.
    private func logging(to logger: Logger?) -> SessionEngine {
        guard let logger else { return self }
        var engine = self
        engine.logger = logger
        return engine
    }

    /// What to add to the response for `session` after a handler answered `status`: the
    /// `Set-Cookie` headers, whether to add `Vary: Cookie`, and the `Cache-Control` a response that
    /// sets the cookie needs (``SessionCommit/cacheControl``). Throws
    /// ``SessionError/Code/cookieTooLarge`` when the session does not fit in a cookie and
    /// ``SessionError/Code/storeUnavailable`` when the store fails (no cookie is sent then for an
    /// ID that was not stored). Logs through `logger` when given one (as
    /// ``load(from:client:logger:)`` does).
    public func commit(_ session: Session, status: Int = 200, logger: Logger? = nil) async throws -> SessionCommit {
        let engine = logging(to: logger)
        var commit: SessionCommit
        switch storage {
        case .cookie(let codec): commit = try engine.commitCookie(session, status: status, codec: codec)
        case .server(let store): commit = try await engine.commitServer(session, status: status, store: store)
        }
        commit.cacheControl = Self.cacheControl(commit.setCookies, session: session)
        return commit
    }

    /// A response that sets the session cookie is for this browser only (`private`); one that hands
    /// out a new session ID is not kept at all (`no-store`). A new ID is a cookie, not a deletion,
    /// for a request that came without a session (server-side: a created session) or asked for
    /// `regenerateID()` (server-side: renamed; a cookie session has no ID, its first cookie and a
    /// login's stand for one).
    static func cacheControl(_ setCookies: [SetCookie], session: Session) -> String? {
        guard !setCookies.isEmpty else { return nil }
        let issuesNewID = setCookies.contains { $0.maxAge != 0 } && (session.loaded == nil || session.regenerateRequested)
        return issuesNewID ? SessionCommit.newIDCacheControl : SessionCommit.privateCacheControl
    }

    func loadCookie(from cookies: RequestCookies, codec: any SessionCodec) -> Session {
        var context: SessionCodecContext?
        var first = true
        // Rejections are logged once per request, however many cookies were rejected.
        var rejected = 0
        var reasons: Set<SessionRejection> = []
        defer {
            if rejected > 0 {
                logger.debug("session cookie rejected", metadata: [
                    "rejected": "\(rejected)", "reason": "\(reasons.map(\.description).sorted().joined(separator: ","))",
                    "format": "\(codec.formatName)",
                ])
            }
        }
        // The values are slices of the header: decoded in place, never copied.
        for candidate in cookies.valueSlices(named: configuration.cookie.name) {
            if !first, !configuration.tryEveryCookieCandidate { break }
            first = false
            guard !candidate.isEmpty else { continue }
            let now = context ?? codecContext(now: clock())
            context = now
            switch codec.decode(candidate, context: now) {
            case .valid(let data, let needsReissue):
                return Session(data: data, needsReissue: needsReissue)
            case .rejected(let reason):
                rejected += 1
                reasons.insert(reason)
                instruments.reject(reason.rawValue)
                if reason == .expired { instruments.expired.increment() }
            }
        }
        return Session()
    }

    func commitCookie(_ session: Session, status: Int, codec: any SessionCodec) throws -> SessionCommit {
        let snapshot = session.snapshot()
        var commit = SessionCommit(setCookies: [], varyCookie: snapshot.accessed)
        guard configuration.commits(status: status) else { return commit }

        if snapshot.invalidateRequested || snapshot.values.isEmpty {
            if snapshot.modified {
                commit.setCookies.append(deletionCookie())
                commit.varyCookie = true
                if session.loaded != nil { instruments.invalidated.increment() }
            }
            return commit
        }

        let now = clock()
        let permanent = snapshot.isPermanent
        var reissue = snapshot.modified || snapshot.regenerateRequested
        if !reissue, session.needsReissue, configuration.reissueAfterKeyRotation { reissue = true }
        if !reissue, permanent, configuration.refreshEachRequest {
            reissue = now - (session.loaded?.issuedAt ?? .min / 2) >= configuration.refreshIntervalSeconds
        }
        guard reissue else { return commit }

        // A re-issue (refresh, regenerateID, key rotation, a change) keeps the session's first issue,
        // so its absolute lifetime runs from there; a cookie issued before the first issue was
        // recorded counts its issue time. A new session (none loaded) is first issued now.
        let firstIssuedAt = session.loaded.flatMap { $0.firstIssuedAt ?? $0.issuedAt }
        let value = try codec.encode(SessionData(values: snapshot.values, firstIssuedAt: firstIssuedAt), context: codecContext(now: now))
        let size = configuration.cookie.name.utf8.count + 1 + value.utf8.count
        guard size <= configuration.maximumCookieSize else {
            let largest = snapshot.values.map { ($0.key, $0.value.jsonBytes.count) }.sorted { $0.1 > $1.1 }.prefix(3)
            let keys = largest.map { "\($0.0) (\($0.1) bytes)" }.joined(separator: ", ")
            logger.error("session cookie too large", metadata: ["size": "\(size)", "limit": "\(configuration.maximumCookieSize)", "largest_keys": "\(keys)"])
            throw SessionError(.cookieTooLarge, "the session cookie would be \(size) bytes, over the \(configuration.maximumCookieSize)-byte limit browsers keep; largest keys: \(keys)")
        }
        commit.setCookies.append(try sessionCookie(value: value, expires: permanent ? now + configuration.permanentLifetimeSeconds : nil))
        commit.varyCookie = true
        if session.loaded == nil {
            instruments.created.increment()
        } else if snapshot.regenerateRequested {
            instruments.regenerated.increment()
        }
        if session.needsReissue { instruments.keyRotationReissues.increment() }
        return commit
    }

    /// The session cookie with the configured attributes.
    func sessionCookie(value: String, expires: Int64?) throws -> SetCookie {
        guard let template = sessionCookieTemplate else {
            return try Self.sessionCookie(configuration.cookie, value: value, expires: expires)
        }
        return try template.replacing(value: value, expires: expires.map(SessionClock.date))
    }

    private static func sessionCookie(_ attributes: SessionConfiguration.CookieAttributes, value: String, expires: Int64?) throws -> SetCookie {
        try SetCookie(
            name: attributes.name,
            value: value,
            expires: expires.map(SessionClock.date),
            domain: attributes.domain,
            path: attributes.path,
            secure: attributes.secure || attributes.partitioned,
            httpOnly: attributes.httpOnly,
            sameSite: attributes.sameSite,
            partitioned: attributes.partitioned
        )
    }

    /// The header that removes the session cookie, echoing its Domain, Path, Secure, SameSite and
    /// Partitioned so the browser matches it.
    public func deletionCookie() -> SetCookie {
        let attributes = configuration.cookie
        do {
            return try SetCookie(
                name: attributes.name, value: "", domain: attributes.domain, path: attributes.path,
                secure: attributes.secure || attributes.partitioned, httpOnly: attributes.httpOnly,
                sameSite: attributes.sameSite, partitioned: attributes.partitioned
            ).deletion()
        } catch {
            // Unreachable after SessionConfiguration.validate(), which middleware runs at start-up.
            preconditionFailure("invalid session cookie configuration: \(error)")
        }
    }

    /// The codec's context at `now`: the current lifetimes, which every cookie is checked against
    /// on load whatever it was issued under.
    func codecContext(now: Int64) -> SessionCodecContext {
        SessionCodecContext(
            cookieName: configuration.cookie.name, now: now, lifetime: configuration.permanentLifetimeSeconds,
            absoluteLifetime: configuration.absoluteLifetimeSeconds
        )
    }
}

/// What a commit adds to a response.
///
/// ```swift
/// let commit = try await engine.commit(session, status: 200)
/// commit.setCookies.map(\.headerValue)   // Set-Cookie header values
/// ```
public struct SessionCommit: Sendable {
    /// `Set-Cookie` headers to add, in order.
    public var setCookies: [SetCookie]
    /// Whether to add `Vary: Cookie` (the response depends on the session).
    public var varyCookie: Bool
    static let privateCacheControl = "private"
    static let newIDCacheControl = "no-store"

    /// The `Cache-Control` the response needs when the handler set none: `no-store` when the commit
    /// hands out a new session ID (a new session, or `regenerateID()`), `private` when it sets or
    /// deletes the session cookie otherwise, `nil` when it sets no cookie. Middleware adds it only
    /// to a response without a `Cache-Control` of its own, so that no shared cache keeps one
    /// user's `Set-Cookie` for another.
    public var cacheControl: String? = nil
}
