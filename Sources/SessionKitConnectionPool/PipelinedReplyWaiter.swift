import NIOCore

/// Who waits for the answer to a pipelined request: an event loop's promise, for code that chains
/// futures, or a task's continuation, for `async` code (what the stores use). A task waiting on its
/// own continuation needs no promise, future or callback, and no future's generic deinitializer
/// runs (each looked up type metadata at run time: measured with callgrind,
/// Benchmarks/history/round-13.md). The connection's handler answers every request exactly once:
/// with its answer, or with the failure that closes the connection.
///
/// Inlinable, so each client module compiles it for its own answer type.
///
/// ```swift
/// let bytes = command.encoded(allocator: channel.allocator)
/// let reply = try await withUnsafeThrowingContinuation { continuation in
///     enqueue(RedisRequest(bytes: bytes, waiter: .continuation(continuation), timeout: commandTimeout))
/// }
/// ```
package enum PipelinedReplyWaiter<Value: Sendable>: Sendable {
    case promise(EventLoopPromise<Value>)
    case continuation(UnsafeContinuation<Value, any Error>)

    /// Completes the request with its answer.
    @inlinable
    package func succeed(_ value: Value) {
        switch self {
        case .promise(let promise): promise.succeed(value)
        case .continuation(let continuation): continuation.resume(returning: value)
        }
    }

    /// Completes the request with a failure.
    @inlinable
    package func fail(_ error: any Error) {
        switch self {
        case .promise(let promise): promise.fail(error)
        case .continuation(let continuation): continuation.resume(throwing: error)
        }
    }
}
