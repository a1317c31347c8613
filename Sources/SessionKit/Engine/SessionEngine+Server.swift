import CoreMetrics
import Logging

/// Server-side sessions: the cookie holds a session ID, the store holds the data.
///
/// - A cookie that is not of the exact shape of an ID is dropped before any store access.
/// - An unknown or expired ID is never adopted: a session that needs storing gets a new ID.
/// - A request that only reads creates nothing and writes nothing (a throttled touch aside, which
///   the load itself makes when it is due: ``SessionStore/load(_:touchingIfDue:)``, one round trip).
/// - Changes are applied as a key-level delta; a session deleted meanwhile is not resurrected.
/// - A deletion cookie is sent only by the request that ends the session (`invalidate()`, or
///   emptying it), never because an update found the ID gone: a concurrent login may have moved
///   the session to a new ID, whose cookie a deletion would remove from the browser.
extension SessionEngine {
    func loadServer(from cookies: RequestCookies, store: any SessionStore, client: SessionClientInfo) async throws -> Session {
        let now = clock()
        // The throttled touch, folded into the load: the store moves the idle deadline when it is due.
        let touch = SessionLoadTouch(
            now: now, idleWindow: idleWindow(permanent: false), permanentWindow: idleWindow(permanent: true),
            touchFraction: configuration.touchFraction
        )
        var first = true
        // At most `maximumStoreLookups` IDs reach the store; what was passed over is logged once
        // per request, however many cookies it was.
        var lookups = 0
        var malformed = 0
        var unknown = 0
        var skipped = 0
        var expired = 0
        defer {
            instruments.reject("malformed", count: malformed)
            instruments.reject("not_found", count: unknown - expired)
            instruments.reject("expired", count: expired)
            if expired > 0 { instruments.expired.increment(by: expired) }
            if malformed + unknown + skipped > 0 {
                logger.debug("session ID cookie rejected", metadata: [
                    "malformed": "\(malformed)", "not_found": "\(unknown)", "not_looked_up": "\(skipped)",
                ])
            }
        }
        for slice in cookies.valueSlices(named: configuration.cookie.name) {
            if !first, !configuration.tryEveryCookieCandidate { break }
            first = false
            guard lookups < SessionConfiguration.maximumStoreLookups else {
                // Not even parsed: a signed ID's check costs a MAC per key.
                if !slice.isEmpty { skipped += 1 }
                continue
            }
            guard let (id, signedWithOlderKey) = parseID(slice) else {
                if !slice.isEmpty { malformed += 1 }
                continue
            }
            lookups += 1
            let key = id.storageKey
            let loaded: SessionLoadTouch.Loaded?
            do {
                loaded = try await instruments.measure(.load) { try await store.load(key, touchingIfDue: touch) }
            } catch {
                logger.error("session store unavailable on load: answering 503, the session is kept", metadata: Self.storeErrorMetadata(error))
                switch configuration.storeFailurePolicy {
                case .failClosed:
                    throw SessionError(.storeUnavailable, "the session store is unavailable")
                case .continueAnonymous:
                    return Session(data: nil, needsReissue: false, origin: nil, loadFailed: true, client: client)
                }
            }
            guard let record = loaded?.session, record.expiresAt >= now, record.absoluteExpiresAt >= now else {
                unknown += 1
                if loaded != nil { expired += 1 }
                continue
            }
            return Session(
                data: SessionData(values: record.values, issuedAt: record.lastSeenAt, expiresAt: record.expiresAt),
                needsReissue: signedWithOlderKey,
                origin: ServerSessionOrigin(id: id, key: key, record: record, touchedOnLoad: loaded?.touched ?? false),
                loadFailed: false,
                client: client
            )
        }
        return Session(data: nil, needsReissue: false, origin: nil, loadFailed: false, client: client)
    }

    /// Ends every session of `userID` (but `except`, the current one for "log out other devices")
    /// in a store that keeps a user index, counting them in `sessionkit_sessions_revoked`; returns
    /// how many live sessions ended. Throws ``SessionError/Code/configuration`` when sessions are
    /// in cookies or the store keeps no ``SessionUserIndex``.
    ///
    /// ```swift
    /// let ended = try await engine.revokeSessions(ofUser: "42", except: session.storageKey)
    /// ```
    public func revokeSessions(ofUser userID: String, except: SessionStorageKey? = nil) async throws -> Int {
        guard case .server(let store) = storage, let index = store as? any SessionUserIndex else {
            throw SessionError(.configuration, "revoking a user's sessions needs a store with a user index")
        }
        let revoked = try await instruments.measure(.revoke) { try await index.revokeSessions(ofUser: userID, except: except) }
        if revoked > 0 { instruments.revoked.increment(by: revoked) }
        return revoked
    }

    /// What a log line may say of a store's error: a ``SessionStoreError``'s code and message
    /// (written never to hold an ID, a key or a password), otherwise only the error's type.
    static func storeErrorMetadata(_ error: any Error) -> Logger.Metadata {
        if let error = error as? SessionStoreError {
            return ["error": "\(error.code)", "reason": "\(error.message)"]
        }
        return ["error": "\(String(describing: type(of: error)))"]
    }

    func commitServer(_ session: Session, status: Int, store: any SessionStore) async throws -> SessionCommit {
        let snapshot = session.snapshot()
        var commit = SessionCommit(setCookies: [], varyCookie: snapshot.accessed)
        guard !session.loadFailed, configuration.commits(status: status) else { return commit }
        do {
            if let origin = session.origin {
                try await commitExisting(origin, session: session, snapshot: snapshot, store: store, into: &commit)
            } else {
                try await commitNew(snapshot, client: session.client, store: store, into: &commit)
            }
        } catch let error as SessionError {
            throw error
        } catch {
            logger.error("session store unavailable on commit: answering 503, nothing was stored", metadata: Self.storeErrorMetadata(error))
            throw SessionError(.storeUnavailable, "the session could not be stored")
        }
        return commit
    }

    /// The ID in a cookie value: checked for shape, and for its MAC when IDs are signed.
    private func parseID(_ value: some StringProtocol) -> (SessionID, Bool)? {
        if let idSigner {
            return idSigner.verify(value, cookieName: configuration.cookie.name).map { ($0.id, $0.signedWithOlderKey) }
        }
        return SessionID(cookieValue: value).map { ($0, false) }
    }

    /// The cookie value for an ID: the ID, signed when IDs are signed.
    private func cookieValue(_ id: SessionID) -> String {
        idSigner?.sign(id, cookieName: configuration.cookie.name) ?? id.cookieValue
    }

    private func idleWindow(permanent: Bool) -> Int64 {
        permanent ? configuration.permanentLifetimeSeconds : configuration.idleTimeoutSeconds
    }

    private func commitNew(_ snapshot: SessionSnapshot, client: SessionClientInfo, store: any SessionStore, into commit: inout SessionCommit) async throws {
        if snapshot.invalidateRequested || snapshot.values.isEmpty {
            // Nothing to keep; clear out whatever stale cookie the browser may hold.
            if snapshot.modified {
                commit.setCookies.append(deletionCookie())
                commit.varyCookie = true
            }
            return
        }
        guard snapshot.modified else { return }
        logger.debug("creating a server-side session")
        let now = clock()
        let permanent = snapshot.isPermanent
        let absolute = now + configuration.absoluteLifetimeSeconds
        let record = StoredSession(
            values: snapshot.values,
            createdAt: now,
            expiresAt: now + idleWindow(permanent: permanent),
            absoluteExpiresAt: absolute,
            userAgent: client.userAgent,
            ipAddress: client.ipAddress
        )
        var id = SessionID()
        do {
            try await instruments.measure(.create) { try await store.create(id.storageKey, record) }
        } catch let error as SessionStoreError where error.code == .alreadyExists {
            // 2^-256 odds, or a broken random source: never share a record; try once more.
            id = SessionID()
            try await instruments.measure(.create) { try await store.create(id.storageKey, record) }
        }
        instruments.created.increment()
        commit.setCookies.append(try sessionCookie(value: cookieValue(id), expires: permanent ? record.expiresAt : nil))
        commit.varyCookie = true
    }

    private func commitExisting(_ origin: ServerSessionOrigin, session: Session, snapshot: SessionSnapshot, store: any SessionStore, into commit: inout SessionCommit) async throws {
        var key = origin.key
        if snapshot.invalidateRequested || (snapshot.modified && snapshot.values.isEmpty) {
            logger.debug("deleting a server-side session", metadata: ["reason": "\(snapshot.invalidateRequested ? "invalidated" : "emptied")"])
            try await instruments.measure(.delete) { try await store.delete(key) }
            instruments.invalidated.increment()
            commit.setCookies.append(deletionCookie())
            commit.varyCookie = true
            return
        }
        let now = clock()
        let permanent = snapshot.isPermanent
        let window = idleWindow(permanent: permanent)
        var expiresAt = min(now + window, origin.record.absoluteExpiresAt)
        let wasPermanent = (try? origin.record.values[Session.permanentKey]?.flaskValue()) == .bool(true)

        var id = origin.id
        if snapshot.regenerateRequested || (configuration.regeneratesIDWhenUserChanges && Self.userChanged(snapshot, from: origin.record)) {
            let newID = SessionID()
            guard try await instruments.measure(.rename, { try await store.rename(key, to: newID.storageKey) }) else { return gone(&commit) }
            instruments.regenerated.increment()
            id = newID
            key = newID.storageKey
        }
        var extended = false
        if snapshot.modified {
            let delta = snapshot.delta
            let applied: Bool
            if key == origin.key, origin.record.revision != nil, let loadedApplying = store as? any SessionLoadedApplyingStore {
                // Not renamed: the row may still be as this request loaded it.
                let loaded = origin.record
                applied = try await instruments.measure(.apply) { try await loadedApplying.apply(delta, to: key, expiresAt: expiresAt, loaded: loaded) }
            } else {
                applied = try await instruments.measure(.apply) { try await store.apply(delta, to: key, expiresAt: expiresAt) }
            }
            guard applied else { return gone(&commit) }
            extended = true
        } else if id != origin.id || (!origin.touchedOnLoad && Double(now - origin.record.lastSeenAt) >= Double(window) * configuration.touchFraction) {
            // After a rename (the new key's deadline starts now), or when the load did not touch
            // (not due then, or a store's race): one touch.
            guard try await instruments.measure(.touch, { try await store.touch(key, expiresAt: expiresAt) }) else { return gone(&commit) }
            extended = true
        } else if origin.touchedOnLoad {
            // The load moved the deadline already: nothing more to write; a permanent cookie's
            // Expires follows the deadline the store now holds.
            expiresAt = origin.record.expiresAt
            extended = true
        }
        // The cookie changes when the ID does, when permanence does, and a permanent cookie's
        // Expires slides with each extension of the session.
        if id != origin.id || permanent != wasPermanent || (permanent && extended) || session.needsReissue {
            commit.setCookies.append(try sessionCookie(value: cookieValue(id), expires: permanent ? expiresAt : nil))
            commit.varyCookie = true
            if session.needsReissue { instruments.keyRotationReissues.increment() }
        }
    }

    /// Whether the request set, changed or removed the session's user (compared by bytes, as the
    /// stores' user indexes compare).
    static func userChanged(_ snapshot: SessionSnapshot, from record: StoredSession) -> Bool {
        guard snapshot.modified, snapshot.replacedAll || snapshot.changedKeys.contains(StoredSession.userIDKey) else { return false }
        let before = StoredSession.userID(from: record.values[StoredSession.userIDKey])
        let after = StoredSession.userID(from: snapshot.values[StoredSession.userIDKey])
        switch (before, after) {
        case (nil, nil): return false
        case let (before?, after?): return !before.utf8.elementsEqual(after.utf8)
        default: return true
        }
    }

    /// The session's ID was gone when this request wrote (a logout elsewhere, a revocation, or a
    /// concurrent login that moved the session to a new ID): it is not re-created, and no cookie is
    /// sent. A deletion would remove whatever session cookie the browser holds by now, which may be
    /// the new ID the login just set; a cookie whose ID is really dead only costs a look-up that
    /// finds nothing, and is replaced once the browser's session gets new data.
    private func gone(_ commit: inout SessionCommit) {
        logger.debug("session ID was gone when the request committed; not resurrected, cookie left alone")
        commit.varyCookie = true
    }
}
