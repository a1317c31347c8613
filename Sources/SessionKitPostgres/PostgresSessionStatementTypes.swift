import PostgresNIO
import SessionKit

/// Reads a live session: `key_hash = $1 AND expires_at > $2`.
///
/// ```swift
/// let rows = try await store.rows(PostgresLoadStatement(key: key, now: now), on: connection)
/// ```
struct PostgresLoadStatement: PostgresPreparedStatement {
    typealias Row = (ByteBuffer, Int64, Int64, Int64, Int64, String?, String?, Int64)
    static var name: String { PostgresSessionStatements.current.load.name }
    static var sql: String { PostgresSessionStatements.current.load.sql }
    static var bindingDataTypes: [PostgresDataType] { [.bytea, .int8] }

    let key: SessionStorageKey
    let now: Int64

    func makeBindings() -> PostgresBindings { PostgresSessionParameters.load(key: key, now: now) }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// Reads a live session and touches it when due (``PostgresSessionStatements/loadTouch``): `$1`
/// the key, `$2` the store's now, `$3` the engine's now, `$4` the lower of the two thresholds,
/// `$5` the idle window's threshold, `$6` its deadline, `$7` the permanent window's deadline, `$8`
/// its threshold. The last column is the new deadline when the row was touched, else NULL.
///
/// ```swift
/// let rows = try await store.rows(PostgresLoadTouchStatement(key: key, now: now, touch: touch), on: connection)
/// ```
struct PostgresLoadTouchStatement: PostgresPreparedStatement {
    typealias Row = (ByteBuffer, Int64, Int64, Int64, Int64, String?, String?, Int64?, Int64)
    static var name: String { PostgresSessionStatements.current.loadTouch.name }
    static var sql: String { PostgresSessionStatements.current.loadTouch.sql }
    static var bindingDataTypes: [PostgresDataType] { [.bytea, .int8, .int8, .int8, .int8, .int8, .int8, .int8] }

    let key: SessionStorageKey
    let now: Int64
    let touch: SessionLoadTouch

    func makeBindings() -> PostgresBindings { PostgresSessionParameters.loadTouch(key: key, now: now, touch: touch) }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// What one kind of ``PostgresWriteStatement`` runs.
protocol PostgresWriteKind: Sendable {
    static func statement(of statements: PostgresSessionStatements) -> PostgresSessionStatements.Statement
    /// The types of `$1`..., in order.
    static var bindingDataTypes: [PostgresDataType] { get }
}

/// A write to a live session (a touch, a replacement of its values, a delta, a delta with
/// operations): `$1` the new idle deadline, `$2` now, `$3` the key, then the kind's own values. A
/// row comes back when the session was live and changed.
///
/// ```swift
/// let bindings: PostgresBindings = PostgresSessionParameters.write(expiresAt: deadline, now: now, key: key)
/// let changed = try await store.rows(PostgresWriteStatement<PostgresTouchWrite>(bindings: bindings), on: connection)
/// ```
struct PostgresWriteStatement<Kind: PostgresWriteKind>: PostgresPreparedStatement {
    typealias Row = Bool
    static var name: String { Kind.statement(of: .current).name }
    static var sql: String { Kind.statement(of: .current).sql }
    static var bindingDataTypes: [PostgresDataType] { Kind.bindingDataTypes }

    let bindings: PostgresBindings

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> Bool { true }
}

/// Moves the deadlines only.
enum PostgresTouchWrite: PostgresWriteKind {
    static func statement(of statements: PostgresSessionStatements) -> PostgresSessionStatements.Statement { statements.touch }
    static var bindingDataTypes: [PostgresDataType] { [.int8, .int8, .bytea] }
}

/// Replaces the values: `$4` the encoded values, `$5` the user ID.
enum PostgresReplaceWrite: PostgresWriteKind {
    static func statement(of statements: PostgresSessionStatements) -> PostgresSessionStatements.Statement { statements.replaceAll }
    static var bindingDataTypes: [PostgresDataType] { [.int8, .int8, .bytea, .bytea, .text] }
}

/// Replaces the values while the row is at a revision, else merges the delta: `$4` the encoded
/// values, `$5` the user ID, `$6` the revision, `$7` the encoded delta, `$8` whether it changes the
/// user, `$9` the user ID it sets.
enum PostgresReplaceAtRevisionWrite: PostgresWriteKind {
    static func statement(of statements: PostgresSessionStatements) -> PostgresSessionStatements.Statement { statements.replaceAtRevision }
    static var bindingDataTypes: [PostgresDataType] { [.int8, .int8, .bytea, .bytea, .text, .int8, .bytea, .bool, .text] }
}

/// Merges a delta: `$4` the encoded delta, `$5` whether it changes the user, `$6` the user ID.
enum PostgresUpdateWrite: PostgresWriteKind {
    static func statement(of statements: PostgresSessionStatements) -> PostgresSessionStatements.Statement { statements.update }
    static var bindingDataTypes: [PostgresDataType] { [.int8, .int8, .bytea, .bytea, .bool, .text] }
}

/// Merges a delta, then applies operations: as ``PostgresUpdateWrite``, and `$7` the operations (JSON).
enum PostgresOperateWrite: PostgresWriteKind {
    static func statement(of statements: PostgresSessionStatements) -> PostgresSessionStatements.Statement { statements.updateApplying }
    static var bindingDataTypes: [PostgresDataType] { [.int8, .int8, .bytea, .bytea, .bool, .text, .text] }
}
