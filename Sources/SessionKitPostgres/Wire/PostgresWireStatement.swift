import NIOCore

/// A statement SessionKit's own connections run: its SQL, its parameters' types, and the name it
/// is prepared under on each connection (empty: sent as the unnamed statement every time, for a
/// pooler that cannot keep prepared statements). Its `Parse` message is made once.
///
/// ```swift
/// let load = PostgresWireStatement(name: "sessionkit_load_…", sql: "SELECT … WHERE key_hash = $1 AND expires_at > $2",
///                                  parameterTypes: [.bytea, .int8])
/// let result = try await pool.run(load, bindings)
/// ```
struct PostgresWireStatement: Sendable {
    let name: String
    let parameterTypes: [PostgresWireBindings.DataType]
    /// The statement's `Parse` message, written before its first `Bind` on each connection (and
    /// before every `Bind` of an unnamed statement).
    let parseMessage: ByteBuffer

    init(name: String, sql: String, parameterTypes: [PostgresWireBindings.DataType]) {
        self.name = name
        self.parameterTypes = parameterTypes
        var buffer = ByteBuffer()
        PostgresWireFrontend.writeParse(into: &buffer, statement: name, sql: sql, parameterTypes: parameterTypes.map(\.rawValue))
        self.parseMessage = buffer
    }

    /// Whether the statement is prepared once per connection (named), or parsed with every run.
    var isPrepared: Bool { !name.isEmpty }
}
