import NIOCore
import SessionKitConnectionPool

/// A statement on its way to the server: the statement (its `Parse` goes first when the
/// connection has not prepared it), the encoded `Bind`, `Execute` and `Sync`, who waits for its
/// answer, and how long the answer may take.
///
/// ```swift
/// handler.value.send(PostgresWireRequest(statement: load, bytes: bind, waiter: .promise(promise), timeout: .seconds(10)))
/// ```
struct PostgresWireRequest: Sendable {
    let statement: PostgresWireStatement
    let bytes: ByteBuffer
    let waiter: PipelinedReplyWaiter<PostgresWireResult>
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
