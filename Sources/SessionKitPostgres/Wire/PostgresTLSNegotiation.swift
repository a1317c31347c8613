import NIOCore
import NIOSSL

/// The first step of a connection that may use TLS: sends `SSLRequest`, reads the server's one-byte
/// answer, and on `S` puts NIOSSL's handler in front of the pipeline (whose handshake completion
/// starts the start-up), on `N` either goes on in plain text (`sslmode=prefer`, with a
/// ``PlainText`` event) or fails (any stronger mode). Bytes after the `S` and before the handshake
/// are an injection attempt (CVE-2021-23222) and fail the connection.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(PostgresTLSNegotiation(context: sslContext, serverHostname: "db.internal",
///                                                                       required: true, server: "PostgreSQL at db.internal:5432"))
/// ```
final class PostgresTLSNegotiation: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// Sent down the pipeline when the server declined TLS and the mode allows plain text.
    struct PlainText {}

    private let sslContext: NIOSSLContext
    private let serverHostname: String?
    private let required: Bool
    private let server: String

    init(context: NIOSSLContext, serverHostname: String?, required: Bool, server: String) {
        self.sslContext = context
        self.serverHostname = serverHostname
        self.required = required
        self.server = server
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 8)
        PostgresWireFrontend.writeSSLRequest(into: &buffer)
        context.writeAndFlush(NIOAny(buffer), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard let answer = buffer.readInteger(as: UInt8.self) else { return }
        switch answer {
        case UInt8(ascii: "S"):
            guard buffer.readableBytes == 0 else {
                context.fireErrorCaught(PostgresWireError(
                    .tlsFailed, "\(server) sent data before the TLS handshake (an injection attempt, CVE-2021-23222)"
                ))
                return
            }
            do {
                let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
                try context.pipeline.syncOperations.addHandler(handler, position: .first)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            } catch {
                context.fireErrorCaught(PostgresWireError(.tlsFailed, "cannot start TLS with \(server): \(error)"))
            }
        case UInt8(ascii: "N") where !required:
            // The event first: a removed handler's context no longer reaches the handlers after it.
            context.fireUserInboundEventTriggered(PlainText())
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case UInt8(ascii: "N"):
            context.fireErrorCaught(PostgresWireError(
                .tlsFailed, "\(server) does not accept TLS connections (its ssl setting is off); the URL's sslmode requires TLS"
            ))
        default:
            context.fireErrorCaught(PostgresWireError(
                .protocolError, "\(server) answered the TLS request with byte \(answer): is it a PostgreSQL server?"
            ))
        }
    }

    /// What a TLS failure on a connection to `server` means, for people; `nil` when `error` is not
    /// a TLS error.
    static func clientError(for error: any Error, server: String) -> PostgresWireError? {
        if let error = error as? NIOSSLExtraError {
            if error == .failedToValidateHostname {
                return PostgresWireError(.tlsFailed, "the TLS certificate of \(server) is not for that host name or address (sslmode=verify-full)")
            }
            return PostgresWireError(.tlsFailed, "TLS with \(server) failed: \(error)")
        }
        guard let error = error as? NIOSSLError else { return nil }
        switch error {
        case .handshakeFailed(let reason):
            if "\(reason)".contains("CERTIFICATE_VERIFY_FAILED") {
                return PostgresWireError(.tlsFailed, "the TLS certificate of \(server) is not signed by the CA of sslrootcert (CERTIFICATE_VERIFY_FAILED)")
            }
            return PostgresWireError(.tlsFailed, "the TLS handshake with \(server) failed")
        case .uncleanShutdown:
            return PostgresWireError(.connectionClosed, "\(server) closed the TLS connection without a TLS close")
        default:
            return PostgresWireError(.tlsFailed, "TLS with \(server) failed: \(error)")
        }
    }
}
