public import HummingbirdCore
import NIOCore

/// How long the demo's HTTP/1 server keeps a connection that sends no complete request (audit
/// issue 15, finding 10): without a limit, clients that open connections and send half a request
/// hold them, and the server's resources, for as long as they like.
///
/// Hummingbird 2 has one timer for this, the HTTP/1 channel's idle timeout, and no separate
/// header-read timeout. The idle timer counts decoded request parts, not bytes: it starts when a
/// connection opens or a response ends, and only a complete request head (or a body part) resets it.
/// So a client that sends part of a head, or trickles it byte by byte, is disconnected once the idle
/// timeout has passed since the connection opened (or since its last response), which makes it the
/// header-read limit too. A request whose head has arrived is not cut while its handler runs; the
/// header sizes stay under Hummingbird's decoder limits (80 KiB).
///
/// ```swift
/// let limits = DemoServerLimits(idleTimeout: .seconds(5))
/// let app = Application(router: demo.router, server: limits.server, configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// ```
public struct DemoServerLimits: Sendable {
    /// The demo's default idle timeout: 5 seconds, long enough for any client that means to send a
    /// request, short enough that held connections are freed quickly.
    public static let defaultIdleTimeout: Duration = .seconds(5)

    /// How long a connection may go without a complete request head (or a body part) before the
    /// server closes it; keep-alive connections between requests too.
    public var idleTimeout: Duration

    /// Limits with `idleTimeout` (it must be positive).
    public init(idleTimeout: Duration = Self.defaultIdleTimeout) {
        precondition(idleTimeout > .zero, "the idle timeout must be positive")
        self.idleTimeout = idleTimeout
    }

    /// The HTTP/1 server with these limits, for `Application(router:server:...)`.
    public var server: HTTPServerBuilder {
        .http1(configuration: HTTP1Channel.Configuration(idleTimeout: TimeAmount(idleTimeout)))
    }
}
