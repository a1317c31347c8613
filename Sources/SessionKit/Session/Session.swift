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
/// Values decode lazily, so a request that reads one key pays for one key; a value that needs
/// `JSONDecoder` is cached decoded (strings, integers and booleans decode faster than a cache
/// lookup and are not). The session is a reference shared by the request context and the
/// middleware; it is safe to use from concurrent tasks of one request.
public final class Session: Sendable {
    struct State: Sendable {
        /// The values in their stored form (handed to the engine as they are, without a copy).
        var values: [String: SessionValue]
        /// Values that were decoded with `JSONDecoder` or set as such types, by key.
        var decoded: [String: any Sendable] = [:]
        var accessed = false
        var isNew: Bool
        var modified = false
        var replacedAll = false
        var changedKeys: Set<String> = []
        var regenerateRequested = false
        var invalidateRequested = false
        /// Atomic operations on keys not otherwise changed during the request, in order.
        var operations: [SessionOperation] = []
    }

    private let state: Mutex<State>
    /// What was loaded: issue time and deadline of the cookie, if any.
    package let loaded: SessionData?
    /// Set by the engine when the session was accepted under an older key and must be re-issued.
    package let needsReissue: Bool
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

    /// A session holding loaded data (`nil`: a new session), for instance to unit-test a handler.
    ///
    /// ```swift
    /// let session = Session(data: SessionData(values: ["username": try SessionValue(encoding: "alice")]))
    /// #expect(session["username", as: String.self] == "alice")
    /// ```
    public convenience init(data: SessionData?) {
        self.init(data: data, needsReissue: false)
    }

    /// A session holding loaded data that the engine must re-issue (accepted under an older key).
    package convenience init(data: SessionData?, needsReissue: Bool) {
        self.init(data: data, needsReissue: needsReissue, origin: nil, loadFailed: false, client: SessionClientInfo())
    }

    init(data: SessionData?, needsReissue: Bool, origin: ServerSessionOrigin?, loadFailed: Bool, client: SessionClientInfo) {
        self.loaded = data
        self.needsReissue = needsReissue
        self.origin = origin
        self.loadFailed = loadFailed
        self.client = client
        self.state = Mutex(State(values: data?.values ?? [:], isNew: data == nil))
    }

    /// The store key of a server-side session (a SHA-256 of its ID: safe to show, useless as a
    /// cookie), or `nil` for a new or client-side session.
    public var storageKey: SessionStorageKey? { origin?.key }

    // MARK: Reading

    /// The value for `key` decoded as `Value`, or `nil` when the key is missing or holds another
    /// type. Setting `nil` removes the key.
    /// The setter ignores a value that cannot be encoded (leaving the key as it was); use
    /// ``set(_:_:)`` to get that error.
    @inlinable
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
    @inlinable
    public subscript<Value>(_ key: SessionKey<Value>) -> Value? {
        get { self[key.name, as: Value.self] }
        set { self[key.name, as: Value.self] = newValue }
    }

    /// Flask's `session.get(key, default)`.
    @inlinable
    public func get<Value: Codable & Sendable>(_ key: String, default defaultValue: Value) -> Value {
        self[key, as: Value.self] ?? defaultValue
    }

    /// Flask's `session[key]`: throws ``SessionError/Code/missingKey`` when the key is missing and
    /// ``SessionError/Code/typeMismatch`` when the value does not decode as `Value`.
    @inlinable
    public func require<Value: Codable & Sendable>(_ key: String, as type: Value.Type = Value.self) throws -> Value {
        guard let value = try self.value(key, as: type) else { throw SessionError.missingKey(key) }
        return value
    }

    /// The value for `key`, `nil` when missing; throws when it does not decode as `Value`.
    ///
    /// (Inlined into the caller, so that the common types go straight to code compiled for them:
    /// generic code looked up type metadata at run time, a measured sixth of a cookie session's
    /// `/read`. The branches fold away where `Value` is known.)
    @inlinable
    public func value<Value: Codable & Sendable>(_ key: String, as type: Value.Type = Value.self) throws -> Value? {
        if Value.self == String.self { return unsafeBitCast(try stringValue(key), to: Value?.self) }
        if Value.self == Int.self { return unsafeBitCast(try intValue(key), to: Value?.self) }
        if Value.self == Bool.self { return unsafeBitCast(try boolValue(key), to: Value?.self) }
        if Value.self == Double.self { return unsafeBitCast(try doubleValue(key), to: Value?.self) }
        return try decodedValue(key, as: type)
    }

    @usableFromInline func stringValue(_ key: String) throws -> String? { try decodedValue(key, as: String.self) }
    @usableFromInline func intValue(_ key: String) throws -> Int? { try decodedValue(key, as: Int.self) }
    @usableFromInline func boolValue(_ key: String) throws -> Bool? { try decodedValue(key, as: Bool.self) }
    @usableFromInline func doubleValue(_ key: String) throws -> Double? { try decodedValue(key, as: Double.self) }

    @usableFromInline
    func decodedValue<Value: Codable & Sendable>(_ key: String, as type: Value.Type) throws -> Value? {
        let (stored, cached) = state.withLock { state -> (SessionValue?, (any Sendable)?) in
            state.accessed = true
            guard let stored = state.values[key] else { return (nil, nil) }
            if state.decoded.isEmpty || Self.decodesCheaply(stored, as: Value.self) { return (stored, nil) }
            return (stored, state.decoded[key])
        }
        guard let stored else { return nil }
        let cheap = Self.decodesCheaply(stored, as: Value.self)
        if let cached = cached as? Value { return cached }
        let decoded: Value
        do {
            decoded = try stored.decode(Value.self)
        } catch {
            throw SessionError(.typeMismatch, "session key '\(key)' does not hold a \(Value.self)")
        }
        if !cheap {
            state.withLock { state in
                // Cache only if the value was not replaced meanwhile.
                if state.values[key] == stored { state.decoded[key] = decoded }
            }
        }
        return decoded
    }

    /// Whether the session has a value for `key`.
    public func contains(_ key: String) -> Bool {
        state.withLock { state in
            state.accessed = true
            return state.values[key] != nil
        }
    }

    /// The keys, sorted.
    public var keys: [String] {
        state.withLock { state in
            state.accessed = true
            return state.values.keys.sorted()
        }
    }

    /// Whether the session holds no values.
    public var isEmpty: Bool {
        state.withLock { state in
            state.accessed = true
            return state.values.isEmpty
        }
    }

    /// The stored form of a value, for codecs and for reading Flask-typed values.
    public func rawValue(_ key: String) -> SessionValue? {
        state.withLock { state in
            state.accessed = true
            return state.values[key]
        }
    }

    /// The value for `key` as Flask's tagged model (tuples, bytes, Markup, UUID, datetime kept).
    public func flaskValue(_ key: String) -> FlaskValue? {
        try? rawValue(key)?.flaskValue()
    }

    // MARK: Writing

    /// Stores `value` under `key`; throws ``SessionError/Code/encodingFailed`` when it cannot be encoded.
    /// (Inlined like ``value(_:as:)``.)
    @inlinable
    public func set<Value: Codable & Sendable>(_ key: String, _ value: Value) throws {
        if Value.self == String.self { return setString(key, unsafeBitCast(value, to: String.self)) }
        if Value.self == Int.self { return setInt(key, unsafeBitCast(value, to: Int.self)) }
        if Value.self == Bool.self { return setBool(key, unsafeBitCast(value, to: Bool.self)) }
        if Value.self == Double.self { return setDouble(key, unsafeBitCast(value, to: Double.self)) }
        try encodeAndStore(key, value)
    }

    @usableFromInline func setString(_ key: String, _ value: String) {
        store(key, SessionValue(flask: .string(value)), decoded: nil)
    }
    @usableFromInline func setInt(_ key: String, _ value: Int) {
        store(key, SessionValue(flask: .int(value)), decoded: nil)
    }
    @usableFromInline func setBool(_ key: String, _ value: Bool) {
        store(key, SessionValue(flask: .bool(value)), decoded: nil)
    }
    @usableFromInline func setDouble(_ key: String, _ value: Double) {
        store(key, SessionValue(flask: .double(value)), decoded: nil)
    }

    @usableFromInline
    func encodeAndStore<Value: Codable & Sendable>(_ key: String, _ value: Value) throws {
        let encoded: SessionValue
        do {
            encoded = try SessionValue(encoding: value)
        } catch {
            throw SessionError(.encodingFailed, "session key '\(key)': the \(Value.self) value cannot be encoded")
        }
        store(key, encoded, decoded: Self.decodesCheaply(encoded, as: Value.self) ? nil : value)
    }

    /// Stores a value in its stored form.
    package func setRawValue(_ value: SessionValue, for key: String) {
        store(key, value, decoded: nil)
    }

    /// Stores a Flask-typed value, which a Flask-format cookie writes with its exact tags.
    public func setFlaskValue(_ value: FlaskValue, for key: String) {
        store(key, SessionValue(flask: value), decoded: nil)
    }

    /// Whether `stored` decodes as `Value` faster than a cache lookup (and is not cached): strings,
    /// integers and booleans always (``SessionValue/decode(_:)`` reads their JSON directly), and
    /// any value kept in Flask's form of those types and doubles (a bit cast).
    static func decodesCheaply<Value>(_ stored: SessionValue, as type: Value.Type) -> Bool {
        if Value.self == String.self || Value.self == Int.self || Value.self == Bool.self { return true }
        if Value.self == Double.self, case .flask = stored.storage { return true }
        return false
    }

    private func store(_ key: String, _ value: SessionValue, decoded: (any Sendable)?) {
        state.withLock { state in
            state.accessed = true
            state.modified = true
            state.values[key] = value
            if !state.operations.isEmpty { state.operations.removeAll { $0.key == key } }
            if let decoded {
                state.decoded[key] = decoded
            } else if !state.decoded.isEmpty {
                state.decoded.removeValue(forKey: key)
            }
            state.changedKeys.insert(key)
        }
    }

    /// Applies an atomic operation to this session's copy of `key` and records it for the store
    /// (see ``SessionOperation``). A key assigned earlier in this request, a reserved key, or a
    /// session whose values are replaced whole takes the result as an assignment instead.
    func operate(_ key: String, _ kind: SessionOperation.Kind) {
        let operation = SessionOperation(key: key, kind: kind)
        state.withLock { state in
            state.accessed = true
            state.modified = true
            state.values[key] = operation.applied(to: state.values[key])
            if !state.decoded.isEmpty { state.decoded.removeValue(forKey: key) }
            if state.replacedAll || state.changedKeys.contains(key) || key == StoredSession.userIDKey || key == Self.permanentKey {
                state.changedKeys.insert(key)
            } else {
                state.operations.append(operation)
            }
        }
    }

    /// Flask's `session.pop(key, None)`: removes the key and tells whether it was there. Marks the
    /// session modified only when it was.
    @discardableResult
    public func remove(_ key: String) -> Bool {
        state.withLock { state in
            state.accessed = true
            guard state.values.removeValue(forKey: key) != nil else { return false }
            if !state.decoded.isEmpty { state.decoded.removeValue(forKey: key) }
            if !state.operations.isEmpty { state.operations.removeAll { $0.key == key } }
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
            state.changedKeys.formUnion(state.values.keys)
            state.values.removeAll()
            state.decoded.removeAll()
            state.operations.removeAll()
        }
    }

    /// Marks the session modified, for a change inside a value that was read and mutated in place
    /// (Flask's `session.modified = True`).
    public func markModified() {
        state.withLock { state in
            state.accessed = true
            state.modified = true
            state.replacedAll = true
            state.operations.removeAll()
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
            state.changedKeys.formUnion(state.values.keys)
            state.values.removeAll()
            state.decoded.removeAll()
            state.operations.removeAll()
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
    package var regenerateRequested: Bool { state.withLock { $0.regenerateRequested } }
    /// Whether ``invalidate()`` was called.
    package var invalidateRequested: Bool { state.withLock { $0.invalidateRequested } }

    /// The values and the changes made during the request, in one consistent snapshot.
    package func snapshot() -> SessionSnapshot {
        state.withLock { state in
            SessionSnapshot(
                values: state.values,
                accessed: state.accessed,
                modified: state.modified,
                isNew: state.isNew,
                replacedAll: state.replacedAll,
                changedKeys: state.changedKeys,
                regenerateRequested: state.regenerateRequested,
                invalidateRequested: state.invalidateRequested,
                operations: state.operations
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
///
/// The engine's: users read the session itself.
package struct SessionSnapshot: Sendable {
    package var values: [String: SessionValue]
    package var accessed: Bool
    package var modified: Bool
    package var isNew: Bool
    /// Every value is to be replaced (after `clear()`, `invalidate()` or `markModified()`).
    package var replacedAll: Bool
    /// Keys set or removed during the request.
    package var changedKeys: Set<String>
    package var regenerateRequested: Bool
    package var invalidateRequested: Bool
    /// Atomic operations for the store to apply in place, in order (on keys not in ``changedKeys``).
    package var operations: [SessionOperation] = []

    /// Whether the session is permanent.
    package var isPermanent: Bool {
        (try? values[Session.permanentKey]?.flaskValue()) == .bool(true)
    }

    /// The key-level change for a store: values to set and keys to remove, or a full replacement.
    package var delta: SessionDelta {
        if replacedAll { return .replaceAll(values) }
        var set: [String: SessionValue] = [:]
        var removed: Set<String> = []
        for key in changedKeys {
            if let value = values[key] { set[key] = value } else { removed.insert(key) }
        }
        if !operations.isEmpty { return .updateApplying(set: set, remove: removed, operations: operations) }
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
    /// Set these keys and remove those, then apply the operations in order, all atomically: each
    /// operation changes the value the store holds at that moment (see ``SessionOperation``).
    case updateApplying(set: [String: SessionValue], remove: Set<String>, operations: [SessionOperation])
}
