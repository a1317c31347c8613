import NIOCore
import PostgresNIO
import SessionKit

/// Where a statement's parameters go: SessionKit's own connections (``PostgresWireBindings``) or
/// postgres-nio (`PostgresBindings`). The store lists each statement's parameters once
/// (``PostgresSessionParameters``), for both.
///
/// ```swift
/// let bindings: PostgresWireBindings = PostgresSessionParameters.load(key: key, now: now)
/// ```
protocol PostgresParameterList {
    init(parameterCapacity: Int)
    /// A `bytea`.
    mutating func appendBytes(_ bytes: [UInt8])
    /// An `int8`.
    mutating func appendInt8(_ value: Int64)
    /// A `text`, or NULL.
    mutating func appendText(_ text: String?)
    /// A `bool`.
    mutating func appendBool(_ value: Bool)
}

extension PostgresWireBindings: PostgresParameterList {
    init(parameterCapacity: Int) { self.init(capacity: 32 + 24 * parameterCapacity) }
    mutating func appendBytes(_ bytes: [UInt8]) { append(bytes: bytes) }
    mutating func appendInt8(_ value: Int64) { append(value) }
    mutating func appendText(_ text: String?) { append(text) }
    mutating func appendBool(_ value: Bool) { append(value) }
}

extension PostgresBindings: PostgresParameterList {
    init(parameterCapacity: Int) { self.init(capacity: parameterCapacity) }
    mutating func appendBytes(_ bytes: [UInt8]) { append(ByteBuffer(bytes: bytes)) }
    mutating func appendInt8(_ value: Int64) { append(value) }
    mutating func appendText(_ text: String?) { append(text) }
    mutating func appendBool(_ value: Bool) { append(value) }
}

/// The parameters of the store's statements (``PostgresSessionStatements`` says what each `$n`
/// is), in one place for both kinds of connection.
///
/// ```swift
/// var bindings: PostgresWireBindings = PostgresSessionParameters.write(expiresAt: deadline, now: now, key: key)
/// PostgresSessionParameters.appendDelta(set: set, remove: remove, to: &bindings)
/// ```
enum PostgresSessionParameters {
    /// `delete`: `$1` the key.
    static func delete<List: PostgresParameterList>(key: SessionStorageKey) -> List {
        var list = List(parameterCapacity: 1)
        list.appendBytes(key.bytes)
        return list
    }

    /// `load`: `$1` the key, `$2` now.
    static func load<List: PostgresParameterList>(key: SessionStorageKey, now: Int64) -> List {
        var list = List(parameterCapacity: 2)
        list.appendBytes(key.bytes)
        list.appendInt8(now)
        return list
    }

    /// `loadTouch`: `$1` the key, `$2` the store's now, `$3` the engine's now, `$4` the lower of
    /// the two thresholds, `$5` the idle window's threshold, `$6` its deadline, `$7` the permanent
    /// window's deadline, `$8` its threshold.
    static func loadTouch<List: PostgresParameterList>(key: SessionStorageKey, now: Int64, touch: SessionLoadTouch) -> List {
        var list = List(parameterCapacity: 8)
        list.appendBytes(key.bytes)
        list.appendInt8(now)
        list.appendInt8(touch.now)
        list.appendInt8(min(touch.lastSeenThreshold, touch.permanentLastSeenThreshold))
        list.appendInt8(touch.lastSeenThreshold)
        list.appendInt8(touch.expiresAt)
        list.appendInt8(touch.permanentExpiresAt)
        list.appendInt8(touch.permanentLastSeenThreshold)
        return list
    }

    /// `create`: `$1` the key, `$2` the values, `$3` the user, `$4` created, `$5` last seen, `$6`
    /// the first deadline, `$7` the absolute one, `$8` the user agent, `$9` the address, `$10` now.
    static func create<List: PostgresParameterList>(key: SessionStorageKey, session: StoredSession, now: Int64) -> List {
        var list = List(parameterCapacity: 10)
        list.appendBytes(key.bytes)
        list.appendBytes(SessionRecordCoding.encode(session.values))
        list.appendText(session.userID)
        list.appendInt8(session.createdAt)
        list.appendInt8(session.lastSeenAt)
        list.appendInt8(min(session.expiresAt, session.absoluteExpiresAt))
        list.appendInt8(session.absoluteExpiresAt)
        list.appendText(session.userAgent)
        list.appendText(session.ipAddress)
        list.appendInt8(now)
        return list
    }

    /// `$1`-`$3` of every write: the new idle deadline, now, the key; the write's own follow.
    static func write<List: PostgresParameterList>(expiresAt: Int64, now: Int64, key: SessionStorageKey) -> List {
        var list = List(parameterCapacity: 9)
        list.appendInt8(expiresAt)
        list.appendInt8(now)
        list.appendBytes(key.bytes)
        return list
    }

    /// `replaceAtRevision`: the write's `$1`-`$3`, `$4`-`$5` the loaded values with the delta
    /// applied, `$6` the loaded revision, `$7`-`$9` the delta itself.
    static func writeAtRevision<List: PostgresParameterList>(
        expiresAt: Int64, now: Int64, key: SessionStorageKey, values: [String: SessionValue], revision: Int64,
        set: [String: SessionValue], remove: Set<String>
    ) -> List {
        var list: List = write(expiresAt: expiresAt, now: now, key: key)
        appendValues(values, to: &list)
        list.appendInt8(revision)
        appendDelta(set: set, remove: remove, to: &list)
        return list
    }

    /// `$4`-`$5` of a replacement: the encoded values and the user they name.
    static func appendValues<List: PostgresParameterList>(_ values: [String: SessionValue], to list: inout List) {
        list.appendBytes(SessionRecordCoding.encode(values))
        list.appendText(StoredSession.userID(from: values[StoredSession.userIDKey]))
    }

    /// A delta: the encoded delta, whether it changes the user, the new user ID.
    static func appendDelta<List: PostgresParameterList>(set: [String: SessionValue], remove: Set<String>, to list: inout List) {
        list.appendBytes(SessionRecordCoding.encode(set, trailer: remove.map { $0 }))
        list.appendBool(set[StoredSession.userIDKey] != nil || remove.contains(StoredSession.userIDKey))
        list.appendText(set[StoredSession.userIDKey].flatMap { StoredSession.userID(from: $0) })
    }
}
