import Synchronization

/// The session of one request: string keys, `Codable` values, and the bookkeeping the engine needs
/// to commit it (was it read, which keys changed, is it new, should its ID change).
///
/// A handler reads and writes it as Flask's `session` dict:
///
/// ```swift
/// session["username"] = "liefyuan"                        // session['username'] = ...
/// let name = session["username", as: String.self]         // session.get('username')
/// let same = try session.require("username", as: String.self) // session['username'] (throws)
/// session.remove("username")                               // session.pop('username', None)
/// session.clear()                                          // session.clear()
/// session.isPermanent = true                               // session.permanent = True
/// ```
///
/// Values decode lazily and the decoded value is cached, so a request that reads one key pays for
/// one key. The session is a reference shared by the request context and the middleware; it is safe
/// to use from concurrent tasks of one request.
public final class Session: Sendable {
    struct Entry: Sendable {
        var value: SessionValue
        var cached: (any Sendable)?
    }

    struct State: Sendable {
        var entries: [String: Entry]
        var accessed = false
        var isNew: Bool
        var modified = false
        var replacedAll = false
        var changedKeys: Set<String> = []
        var regenerateRequested = false
        var invalidateRequested = false
    }

    private let state: Mutex<State>
    /// What was loaded: issue time and deadline of the cookie, if any.
    public let loaded: SessionData?
    /// Set by the engine when the session was accepted under an older key and must be re-issued.
    public let needsReissue: Bool
    /// For a server-side session loaded from a store: its ID and stored record.
    let origin: ServerSessionOrigin?
    /// The store failed while loading and the engine continued anonymously: commit writes nothing,
    /// so the user's cookie is never replaced.
    let loadFailed: Bool
    /// Client details recorded when a server-side session is created (for "active sessions").
    let client: SessionClientInfo

    /// A new, empty session.
    public convenience init() {
        self.init(data: nil, needsReissue: false)
    }

    /// A session holding loaded data (`nil`: a new session).
    public convenience init(data: SessionData?, needsReissue: Bool = false) {
        self.init(data: data, needsReissue: needsReissue, origin: nil, loadFailed: false, client: SessionClientInfo())
    }

    init(data: SessionData?, needsReissue: Bool, origin: ServerSessionOrigin?, loadFailed: Bool, client: SessionClientInfo) {
        self.loaded = data
        self.needsReissue = needsReissue
        self.origin = origin
        self.loadFailed = loadFailed
        self.client = client
        let entries = data?.values.mapValues { Entry(value: $0, cached: nil) } ?? [:]
        self.state = Mutex(State(entries: entries, isNew: data == nil))
    }

    /// The store key of a server-side session (a SHA-256 of its ID: safe to show, useless as a
    /// cookie), or `nil` for a new or client-side session.
    public var storageKey: SessionStorageKey? { origin?.id.storageKey }

    // MARK: Reading

    /// The value for `key` decoded as `Value`, or `nil` when the key is missing or holds another
    /// type. Setting `nil` removes the key.
    /// The setter ignores a value that cannot be encoded (leaving the key as it was); use
    /// ``set(_:_:)`` to get that error.
    public subscript<Value: Codable & Sendable>(_ key: String, as type: Value.Type = Value.self) -> Value? {
        get { try? self.value(key, as: type) }
        set {
            if let newValue {
                try? self.set(key, newValue)
            } else {
                self.remove(key)
            }
        }
    }

    /// The value of a typed key.
    public subscript<Value>(_ key: SessionKey<Value>) -> Value? {
        get { self[key.name, as: Value.self] }
        set { self[key.name, as: Value.self] = newValue }
    }

    /// Flask's `session.get(key, default)`.
    public func get<Value: Codable & Sendable>(_ key: String, default defaultValue: Value) -> Value {
        self[key, as: Value.self] ?? defaultValue
    }

    /// Flask's `session[key]`: throws ``SessionError/Code/missingKey`` when the key is missing and
    /// ``SessionError/Code/typeMismatch`` when the value does not decode as `Value`.
    public func require<Value: Codable & Sendable>(_ key: String, as type: Value.Type = Value.self) throws -> Value {
        guard let value = try self.value(key, as: type) else { throw SessionError.missingKey(key) }
        return value
    }

    /// The value for `key`, `nil` when missing; throws when it does not decode as `Value`.
    public func value<Value: Codable & Sendable>(_ key: String, as type: Value.Type = Value.self) throws -> Value? {
        let entry: Entry? = state.withLock { state in
            state.accessed = true
            return state.entries[key]
        }
        guard let entry else { return nil }
        if let cached = entry.cached as? Value { return cached }
        let decoded: Value
        do {
            decoded = try entry.value.decode(Value.self)
        } catch {
            throw SessionError(.typeMismatch, "session key '\(key)' does not hold a \(Value.self)")
        }
        state.withLock { state in
            // Cache only if the value was not replaced meanwhile.
            if state.entries[key]?.value == entry.value { state.entries[key]?.cached = decoded }
        }
        return decoded
    }

    /// Whether the session has a value for `key`.
    public func contains(_ key: String) -> Bool {
        state.withLock { state in
            state.accessed = true
            return state.entries[key] != nil
        }
    }

    /// The keys, sorted.
    public var keys: [String] {
        state.withLock { state in
            state.accessed = true
            return state.entries.keys.sorted()
        }
    }

    /// Whether the session holds no values.
    public var isEmpty: Bool {
        state.withLock { state in
            state.accessed = true
            return state.entries.isEmpty
        }
    }

    /// The stored form of a value, for codecs and for reading Flask-typed values.
    public func rawValue(_ key: String) -> SessionValue? {
        state.withLock { state in
            state.accessed = true
            return state.entries[key]?.value
        }
    }

    /// The value for `key` as Flask's tagged model (tuples, bytes, Markup, UUID, datetime kept).
    public func flaskValue(_ key: String) -> FlaskValue? {
        try? rawValue(key)?.flaskValue()
    }

    // MARK: Writing

    /// Stores `value` under `key`; throws ``SessionError/Code/encodingFailed`` when it cannot be encoded.
    public func set<Value: Codable & Sendable>(_ key: String, _ value: Value) throws {
        let encoded: SessionValue
        do {
            encoded = try SessionValue(encoding: value)
        } catch {
            throw SessionError(.encodingFailed, "session key '\(key)': the \(Value.self) value cannot be encoded")
        }
        store(key, Entry(value: encoded, cached: value))
    }

    /// Stores a value in its stored form.
    public func setRawValue(_ value: SessionValue, for key: String) {
        store(key, Entry(value: value, cached: nil))
    }

    /// Stores a Flask-typed value, which a Flask-format cookie writes with its exact tags.
    public func setFlaskValue(_ value: FlaskValue, for key: String) {
        store(key, Entry(value: SessionValue(flask: value), cached: nil))
    }

    private func store(_ key: String, _ entry: Entry) {
        state.withLock { state in
            state.accessed = true
            state.modified = true
            state.entries[key] = entry
            state.changedKeys.insert(key)
        }
    }

    /// Flask's `session.pop(key, None)`: removes the key and tells whether it was there. Marks the
    /// session modified only when it was.
    @discardableResult
    public func remove(_ key: String) -> Bool {
        state.withLock { state in
            state.accessed = true
            guard state.entries.removeValue(forKey: key) != nil else { return false }
            state.modified = true
            state.changedKeys.insert(key)
            return true
        }
    }

    /// Flask's `session.pop(key)`: removes the key and returns its old value decoded as `Value`
    /// (`nil` when it was missing or of another type).
    @discardableResult
    public func remove<Value: Codable & Sendable>(_ key: String, as type: Value.Type) -> Value? {
        let old = try? self.value(key, as: type)
        remove(key)
        return old
    }

    /// Flask's `session.clear()`: removes every value of this session. Always counts as a change,
    /// so an emptied session's cookie is deleted.
    public func clear() {
        state.withLock { state in
            state.accessed = true
            state.modified = true
            state.replacedAll = true
            state.changedKeys.formUnion(state.entries.keys)
            state.entries.removeAll()
        }
    }

    /// Marks the session modified, for a change inside a value that was read and mutated in place
    /// (Flask's `session.modified = True`).
    public func markModified() {
        state.withLock { state in
            state.accessed = true
            state.modified = true
            state.replacedAll = true
        }
    }

    /// Flask's `session.permanent`: a permanent session's cookie carries an expiry and lives for the
    /// configured lifetime; stored as Flask does, in the key `_permanent`.
    public var isPermanent: Bool {
        get { flaskValue(Self.permanentKey) == .bool(true) }
        set { setFlaskValue(.bool(newValue), for: Self.permanentKey) }
    }

    static let permanentKey = "_permanent"

    // MARK: Lifecycle requests

    /// Asks for a new session ID at commit, keeping the data (do this at login). Server-side
    /// sessions move their data to the new ID and delete the old record; cookie sessions are
    /// re-issued.
    public func regenerateID() {
        state.withLock { state in
            state.accessed = true
            state.regenerateRequested = true
        }
    }

    /// Ends the session at commit: its data is dropped, its record deleted and its cookie removed
    /// (do this at logout).
    public func invalidate() {
        state.withLock { state in
            state.accessed = true
            state.invalidateRequested = true
            state.modified = true
            state.replacedAll = true
            state.changedKeys.formUnion(state.entries.keys)
            state.entries.removeAll()
        }
    }

    // MARK: State for the engine

    /// Whether anything read or wrote the session during the request.
    public var accessed: Bool { state.withLock { $0.accessed } }
    /// Whether the session was changed during the request.
    public var modified: Bool { state.withLock { $0.modified } }
    /// Whether the request arrived without a valid session.
    public var isNew: Bool { state.withLock { $0.isNew } }
    /// Whether ``regenerateID()`` was called.
    public var regenerateRequested: Bool { state.withLock { $0.regenerateRequested } }
    /// Whether ``invalidate()`` was called.
    public var invalidateRequested: Bool { state.withLock { $0.invalidateRequested } }

    /// The values and the changes made during the request, in one consistent snapshot.
    public func snapshot() -> SessionSnapshot {
        state.withLock { state in
            SessionSnapshot(
                values: state.entries.mapValues(\.value),
                accessed: state.accessed,
                modified: state.modified,
                isNew: state.isNew,
                replacedAll: state.replacedAll,
                changedKeys: state.changedKeys,
                regenerateRequested: state.regenerateRequested,
                invalidateRequested: state.invalidateRequested
            )
        }
    }
}

/// A consistent copy of a ``Session`` for committing: its values and what changed.
///
/// ```swift
/// let snapshot = session.snapshot()
/// if snapshot.modified { /* encode snapshot.values */ }
/// ```
public struct SessionSnapshot: Sendable {
    public var values: [String: SessionValue]
    public var accessed: Bool
    public var modified: Bool
    public var isNew: Bool
    /// Every value is to be replaced (after `clear()`, `invalidate()` or `markModified()`).
    public var replacedAll: Bool
    /// Keys set or removed during the request.
    public var changedKeys: Set<String>
    public var regenerateRequested: Bool
    public var invalidateRequested: Bool

    /// Whether the session is permanent.
    public var isPermanent: Bool {
        (try? values[Session.permanentKey]?.flaskValue()) == .bool(true)
    }

    /// The key-level change for a store: values to set and keys to remove, or a full replacement.
    public var delta: SessionDelta {
        if replacedAll { return .replaceAll(values) }
        var set: [String: SessionValue] = [:]
        var removed: Set<String> = []
        for key in changedKeys {
            if let value = values[key] { set[key] = value } else { removed.insert(key) }
        }
        return .update(set: set, remove: removed)
    }
}

/// A key-level change to a stored session.
///
/// ```swift
/// try await store.apply(.update(set: ["n": SessionValue(json: Array("2".utf8))], remove: []), to: id)
/// ```
public enum SessionDelta: Sendable, Equatable {
    /// Set these keys and remove those; other keys stay as they are.
    case update(set: [String: SessionValue], remove: Set<String>)
    /// Replace every value.
    case replaceAll([String: SessionValue])
}
