import Synchronization

/// The TLS failure that a connection's ``RedisResponseHandler`` saw, kept for the code that connects:
/// when the handshake fails, the first command's write can fail on the closed channel before that
/// command's reply would have carried the TLS error, and "I/O on closed channel" says nothing.
///
/// ```swift
/// let tlsFailure = RedisTLSFailure()
/// // the handler records; the connect path asks:
/// if let error = tlsFailure.error { throw error }
/// ```
final class RedisTLSFailure: Sendable {
    private let value = Mutex<RedisClientError?>(nil)

    /// Keeps the first failure.
    func record(_ error: RedisClientError) {
        value.withLock { if $0 == nil { $0 = error } }
    }

    /// The recorded failure, if any.
    var error: RedisClientError? { value.withLock { $0 } }
}
