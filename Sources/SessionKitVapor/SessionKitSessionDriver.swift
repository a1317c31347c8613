import Logging
public import SessionKit
public import Vapor

/// A drop-in `SessionDriver` for Vapor's own sessions, backed by any SessionKit store: an app that
/// uses `app.sessions.use(...)`, `app.sessions.middleware` and `req.session.data["key"]` changes
/// one line and gets what SessionKit's stores do.
///
/// ```swift
/// let store = try SQLiteSessionStore(path: "sessions.sqlite")
/// app.lifecycle.use(SessionKitStoreLifecycle(store: store))
/// app.sessions.use { _ in SessionKitSessionDriver(store: store) }   // was: app.sessions.use(.memory)
/// app.middleware.use(app.sessions.middleware)
/// ```
///
/// What it changes, compared with Vapor's memory and Fluent drivers:
/// - IDs are 256-bit random values, and the store keeps only their SHA-256 (a leaked table is no
///   list of live cookies).
/// - Sessions expire on the server: after `SessionConfiguration.idleTimeout` without
///   a request, and `SessionConfiguration.absoluteLifetime` after creation, whatever
///   the cookie's own expiry says; ``SessionKitStoreLifecycle`` removes expired ones.
/// - A session deleted meanwhile (a logout elsewhere, a revocation) is never written back:
///   Vapor's middleware saves every session after every response, and a plain driver re-creates
///   the record it saves.
/// - Only the keys a request changed are written (a per-key delta), so concurrent requests that
///   change different keys do not undo each other; a request that changes nothing writes nothing
///   (a throttled extension of the deadline aside).
/// - A request with an unknown cookie that leaves the session empty stores nothing.
/// - A store outage answers 503.
///
/// Values are strings, as Vapor's `SessionData` holds them; each is one session key of the store,
/// so `_user_id` feeds the stores' user index (`SessionUserIndex`).
public struct SessionKitSessionDriver: AsyncSessionDriver {
    /// Where the sessions live.
    public let store: any SessionStore
    /// The lifetimes (`SessionConfiguration.idleTimeout`,
    /// `SessionConfiguration.absoluteLifetime`,
    /// `touchFraction`); the cookie is Vapor's
    /// `app.sessions.configuration`.
    public let configuration: SessionConfiguration
    let clock: @Sendable () -> Int64

    /// A driver keeping Vapor's sessions in `store`.
    public init(store: any SessionStore, configuration: SessionConfiguration = SessionConfiguration(), clock: @escaping @Sendable () -> Int64 = SessionClock.system) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
    }

    public func createSession(_ data: Vapor.SessionData, for request: Request) async throws -> Vapor.SessionID {
        var id = SessionKit.SessionID()
        let values = data.snapshot
        // Vapor creates a session for every request whose cookie it did not find, even one that
        // left it empty: nothing to keep, so nothing is stored.
        guard !values.isEmpty else { return Vapor.SessionID(string: id.cookieValue) }
        let now = clock()
        let record = StoredSession(
            values: try Self.sessionValues(values),
            createdAt: now,
            expiresAt: now + configuration.idleTimeoutSeconds,
            absoluteExpiresAt: now + configuration.absoluteLifetimeSeconds,
            userAgent: request.headers.first(name: .userAgent)
        )
        try await storeCall(request) {
            do {
                try await store.create(id.storageKey, record)
            } catch let error as SessionStoreError where error.code == .alreadyExists {
                // 2^-256 odds, or a broken random source: never share a record; try once more.
                id = SessionKit.SessionID()
                try await store.create(id.storageKey, record)
            }
        }
        return Vapor.SessionID(string: id.cookieValue)
    }

    public func readSession(_ sessionID: Vapor.SessionID, for request: Request) async throws -> Vapor.SessionData? {
        // A value of another shape never reaches the store.
        guard let id = SessionKit.SessionID(cookieValue: sessionID.string) else { return nil }
        // One round trip: the load also extends the idle deadline when it is due (a session
        // untouched for `touchFraction` of its window), so the update finds it fresh and writes
        // nothing unless the request changed a value. Vapor's values are strings, so no session is
        // permanent: one window for both.
        let now = clock()
        let window = configuration.idleTimeoutSeconds
        let touch = SessionLoadTouch(now: now, idleWindow: window, permanentWindow: window, touchFraction: configuration.touchFraction)
        let loaded = try await storeCall(request) { try await store.load(id.storageKey, touchingIfDue: touch) }
        guard let record = loaded?.session, record.expiresAt >= now, record.absoluteExpiresAt >= now else { return nil }
        let values = Self.strings(record.values)
        request.storage[Loaded.Key.self] = Loaded(cookieValue: sessionID.string, values: values, record: record)
        return Vapor.SessionData(initialData: values)
    }

    public func updateSession(_ sessionID: Vapor.SessionID, to data: Vapor.SessionData, for request: Request) async throws -> Vapor.SessionID {
        guard let id = SessionKit.SessionID(cookieValue: sessionID.string) else {
            return try await createSession(data, for: request)
        }
        let key = id.storageKey
        let values = data.snapshot
        let loaded = request.storage[Loaded.Key.self].flatMap { $0.cookieValue == sessionID.string ? $0 : nil }
        if values.isEmpty {
            // Emptied: nothing to keep.
            try await storeCall(request) { try await store.delete(key) }
            return sessionID
        }
        let now = clock()
        let expiresAt = now + configuration.idleTimeoutSeconds
        guard let loaded else {
            // Not read by this request (an ID the app set itself): replace what is stored, if anything.
            _ = try await storeCall(request) { try await store.apply(.replaceAll(try Self.sessionValues(values)), to: key, expiresAt: expiresAt) }
            return sessionID
        }
        var set: [String: SessionValue] = [:]
        for (name, value) in values where loaded.values[name] != value {
            set[name] = try SessionValue(encoding: value)
        }
        let remove = Set(loaded.values.keys.filter { values[$0] == nil })
        if set.isEmpty, remove.isEmpty {
            // Unchanged: nothing to write (the read already extended the deadline when it was due).
            return sessionID
        }
        // `false`: the session was deleted while this request ran, and stays deleted (the
        // browser's cookie then finds nothing).
        _ = try await storeCall(request) { try await store.apply(.update(set: set, remove: remove), to: key, expiresAt: expiresAt) }
        return sessionID
    }

    public func deleteSession(_ sessionID: Vapor.SessionID, for request: Request) async throws {
        guard let id = SessionKit.SessionID(cookieValue: sessionID.string) else { return }
        try await storeCall(request) { try await store.delete(id.storageKey) }
    }

    /// Runs a store call; a failure is logged (without an ID) and answers 503.
    private func storeCall<Result>(_ request: Request, _ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as any AbortError {
            throw error
        } catch {
            var metadata: Logger.Metadata = ["error": "\(String(describing: type(of: error)))"]
            if let error = error as? SessionStoreError { metadata = ["error": "\(error.code)", "reason": "\(error.message)"] }
            request.logger.error("session store unavailable: answering 503", metadata: metadata)
            throw Abort(.serviceUnavailable, reason: "Sessions are unavailable; please try again shortly.")
        }
    }

    static func sessionValues(_ strings: [String: String]) throws -> [String: SessionValue] {
        try strings.mapValues { try SessionValue(encoding: $0) }
    }

    /// Vapor's strings: a string value as it is, any other value as its JSON text.
    static func strings(_ values: [String: SessionValue]) -> [String: String] {
        values.mapValues { value in
            (try? value.decode(String.self)) ?? String(decoding: value.jsonBytes, as: UTF8.self)
        }
    }

    /// What `readSession(_:for:)` loaded, so that the update writes only what changed.
    struct Loaded: Sendable {
        struct Key: StorageKey {
            typealias Value = Loaded
        }

        let cookieValue: String
        let values: [String: String]
        let record: StoredSession
    }
}
