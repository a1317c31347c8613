import NIOCore

/// A statement on its way to the server: the statement (its `Parse` goes first when the
/// connection has not prepared it), the encoded `Bind`, `Execute` and `Sync`, the promise its
/// answer fulfils, and how long the answer may take.
///
/// ```swift
/// channel.writeAndFlush(PostgresWireRequest(statement: load, bytes: bind, promise: promise, timeout: .seconds(10)), promise: nil)
/// ```
struct PostgresWireRequest: Sendable {
    let statement: PostgresWireStatement
    let bytes: ByteBuffer
    let promise: EventLoopPromise<PostgresWireResult>
    let timeout: TimeAmount
}

/// What a statement returned: the bodies of its `DataRow`s (read them with ``PostgresWireRow``).
///
/// ```swift
/// let result = try await pool.run(statement, bindings)
/// if let first = result.rows.first { var row = try PostgresWireRow(first); … }
/// ```
struct PostgresWireResult: Sendable {
    var rows: [ByteBuffer] = []
}
