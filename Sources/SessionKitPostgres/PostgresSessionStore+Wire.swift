import NIOCore
import PostgresNIO
import SessionKit

/// The store's request-path statements as SessionKit's own connections (``PostgresWirePool``) run
/// them: the same SQL and names as ``PostgresSessionStatements``, with their parameters' types.
/// Unnamed (parsed with every run) when the store does not use prepared statements.
///
/// ```swift
/// let statements = PostgresWireStatements(store.statements, prepared: true)
/// let result = try await pool.run(statements.load, bindings)
/// ```
struct PostgresWireStatements: Sendable {
    let load: PostgresWireStatement
    let loadTouch: PostgresWireStatement
    let touch: PostgresWireStatement
    let replaceAll: PostgresWireStatement
    let replaceAtRevision: PostgresWireStatement
    let update: PostgresWireStatement
    let updateApplying: PostgresWireStatement
    let create: PostgresWireStatement
    let delete: PostgresWireStatement

    init(_ statements: PostgresSessionStatements, prepared: Bool) {
        func make(_ statement: PostgresSessionStatements.Statement, _ types: [PostgresWireBindings.DataType]) -> PostgresWireStatement {
            PostgresWireStatement(name: prepared ? statement.name : "", sql: statement.sql, parameterTypes: types)
        }
        let write: [PostgresWireBindings.DataType] = [.int8, .int8, .bytea]
        load = make(statements.load, [.bytea, .int8])
        loadTouch = make(statements.loadTouch, [.bytea] + Array(repeating: .int8, count: 7))
        touch = make(statements.touch, write)
        replaceAll = make(statements.replaceAll, write + [.bytea, .text])
        replaceAtRevision = make(statements.replaceAtRevision, write + [.bytea, .text, .int8, .bytea, .bool, .text])
        update = make(statements.update, write + [.bytea, .bool, .text])
        updateApplying = make(statements.updateApplying, write + [.bytea, .bool, .text, .text])
        create = make(statements.create, [.bytea, .bytea, .text, .int8, .int8, .int8, .int8, .text, .text, .int8])
        delete = make(statements.delete, [.bytea])
    }
}

extension PostgresSessionStore {
    /// Runs one statement on SessionKit's own connections once the schema is in place; the
    /// statements of one session on one connection (``SessionStorageKey/affinity``).
    func run(_ statement: PostgresWireStatement, _ bindings: PostgresWireBindings, key: SessionStorageKey, on pool: PostgresWirePool) async throws -> PostgresWireResult {
        try await migrateIfNeeded()
        do {
            return try await pool.run(statement, bindings, affinity: key.affinity)
        } catch {
            throw Self.wrap(error)
        }
    }

    /// The session of a `load` or `loadTouch` row, and (for `loadTouch`) its last column: the new
    /// deadline when the statement touched it.
    static func storedSession(fromRow body: ByteBuffer, touching: Bool) throws -> (StoredSession, touchedDeadline: Int64?) {
        do {
            var row = try PostgresWireRow(body)
            let data = try row.bytes()
            let (createdAt, lastSeenAt, expiresAt, absoluteExpiresAt) = (try row.int64(), try row.int64(), try row.int64(), try row.int64())
            let (userAgent, ipAddress) = (try row.text(), try row.text())
            let touched = touching ? try row.optionalInt64() : nil
            var session = StoredSession(
                values: try SessionRecordCoding.decode(data.readableBytesView).values,
                createdAt: createdAt, lastSeenAt: lastSeenAt, expiresAt: expiresAt, absoluteExpiresAt: absoluteExpiresAt,
                userAgent: userAgent, ipAddress: ipAddress
            )
            session.revision = try row.int64()
            return (session, touched)
        } catch is PostgresWireRow.Malformed {
            throw corrupt
        }
    }

    /// ``apply(_:to:expiresAt:)`` on SessionKit's own connections.
    func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64, on pool: PostgresWirePool) async throws -> Bool {
        let statements = wireStatements
        var bindings: PostgresWireBindings = PostgresSessionParameters.write(expiresAt: expiresAt, now: clock(), key: key)
        let statement: PostgresWireStatement
        switch delta {
        case .replaceAll(let values):
            PostgresSessionParameters.appendValues(values, to: &bindings)
            statement = statements.replaceAll
        case .update(let set, let remove) where set.isEmpty && remove.isEmpty:
            statement = statements.touch
        case .update(let set, let remove):
            let delta = bindings
            return try await writeCoalescer.write(key, set: set, remove: remove, expiresAt: expiresAt) {
                var bindings = delta
                PostgresSessionParameters.appendDelta(set: set, remove: remove, to: &bindings)
                return try await !self.run(statements.update, bindings, key: key, on: pool).rows.isEmpty
            } batch: { set, remove, expiresAt in
                try await self.applyBatch(set: set, remove: remove, expiresAt: expiresAt, to: key, on: pool)
            }
        case .updateApplying(let set, let remove, let list):
            try SessionOperationWire.check(list)
            PostgresSessionParameters.appendDelta(set: set, remove: remove, to: &bindings)
            bindings.append(SessionOperationWire.encodedText(list))
            statement = statements.updateApplying
        }
        return try await !run(statement, bindings, key: key, on: pool).rows.isEmpty
    }

    /// A batch of writes to one session (``SessionWriteCoalescer``): the merged delta merged into
    /// the row by PostgreSQL (`update`), so it holds whatever the row holds then.
    func applyBatch(set: [String: SessionValue], remove: Set<String>, expiresAt: Int64, to key: SessionStorageKey, on pool: PostgresWirePool) async throws -> Bool {
        var bindings: PostgresWireBindings = PostgresSessionParameters.write(expiresAt: expiresAt, now: clock(), key: key)
        PostgresSessionParameters.appendDelta(set: set, remove: remove, to: &bindings)
        return try await !run(wireStatements.update, bindings, key: key, on: pool).rows.isEmpty
    }

    /// ``create(_:_:)``'s statement; `true` when it created the session.
    func create(_ key: SessionStorageKey, _ session: StoredSession, on pool: PostgresWirePool) async throws -> Bool {
        let bindings: PostgresWireBindings = PostgresSessionParameters.create(key: key, session: session, now: clock())
        return try await !run(wireStatements.create, bindings, key: key, on: pool).rows.isEmpty
    }
}

extension PostgresSessionStore: SessionLoadedApplyingStore {
    /// The loaded values with `delta` applied while the row is still at the loaded revision
    /// (`replaceAtRevision`: no PL/pgSQL merge, a third of the database's work of
    /// ``apply(_:to:expiresAt:)``); a row another request changed since gets the delta merged into
    /// what it holds then, in the same statement. A delta with operations, or a session loaded
    /// without a revision, goes to ``apply(_:to:expiresAt:)``.
    package func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64, loaded: StoredSession) async throws -> Bool {
        guard let revision = loaded.revision, case .update(let set, let remove) = delta, let values = delta.applied(to: loaded.values) else {
            return try await apply(delta, to: key, expiresAt: expiresAt)
        }
        let now = clock()
        if let wirePool {
            return try await writeCoalescer.write(key, set: set, remove: remove, expiresAt: expiresAt) {
                let bindings: PostgresWireBindings = PostgresSessionParameters.writeAtRevision(
                    expiresAt: expiresAt, now: now, key: key, values: values, revision: revision, set: set, remove: remove
                )
                return try await !self.run(self.wireStatements.replaceAtRevision, bindings, key: key, on: wirePool).rows.isEmpty
            } batch: { set, remove, expiresAt in
                try await self.applyBatch(set: set, remove: remove, expiresAt: expiresAt, to: key, on: wirePool)
            }
        }
        let bindings: PostgresBindings = PostgresSessionParameters.writeAtRevision(
            expiresAt: expiresAt, now: now, key: key, values: values, revision: revision, set: set, remove: remove
        )
        return try await write(PostgresWriteStatement<PostgresReplaceAtRevisionWrite>(bindings: bindings))
    }
}

extension SessionStorageKey {
    /// A number that picks a session's connection: the key's hash (a SHA-256's, so evenly spread).
    var affinity: Int { hashValue }
}
