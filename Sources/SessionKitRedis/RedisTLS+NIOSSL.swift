import NIOCore
import NIOSSL

extension RedisTLS {
    /// The NIOSSL context for these settings: TLS 1.2 or later; with ``verifyServer``, full
    /// verification against the CA file's certificates (or the system's roots). Build it once and
    /// share it: loading trust roots is not free. Fails with ``RedisClientError/Kind/tlsFailed``.
    func makeContext() throws(RedisClientError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if verifyServer {
            configuration.certificateVerification = .fullVerification
            if let caFile {
                let certificates: [NIOSSLCertificate]
                do {
                    certificates = try NIOSSLCertificate.fromPEMFile(caFile)
                } catch {
                    throw RedisClientError(.tlsFailed, "cannot read the Redis TLS CA file \(caFile) (missing, unreadable or not PEM)")
                }
                guard !certificates.isEmpty else {
                    throw RedisClientError(.tlsFailed, "the Redis TLS CA file \(caFile) holds no PEM certificate")
                }
                configuration.trustRoots = .certificates(certificates)
            } else {
                configuration.trustRoots = .default
            }
        } else {
            configuration.certificateVerification = .none
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw RedisClientError(.tlsFailed, "cannot set up TLS for Redis: \(error)")
        }
    }

    /// The name to send as SNI and to find in the certificate for `host`: ``serverName`` when set,
    /// else the host; `nil` for an IP address, which is matched against the certificate's IP
    /// addresses instead (SNI carries no addresses).
    func expectedName(host: String) -> String? {
        let name = serverName ?? host
        if (try? SocketAddress(ipAddress: name, port: 0)) != nil { return nil }
        return name
    }

    /// What a TLS failure on a connection to `server` ("Redis at host:port") means, for people;
    /// `nil` when `error` is not a TLS error.
    func clientError(for error: any Error, server: String) -> RedisClientError? {
        if let error = error as? NIOSSLExtraError {
            if error == .failedToValidateHostname {
                return RedisClientError(
                    .tlsFailed,
                    "the TLS certificate of \(server) is not for that host name or address (set RedisTLS.serverName to the name it carries)"
                )
            }
            return RedisClientError(.tlsFailed, "TLS with \(server) failed: \(error)")
        }
        guard let error = error as? NIOSSLError else { return nil }
        switch error {
        case .handshakeFailed(let reason):
            let text = Self.reason(reason)
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                let authority = caFile.map { "the CA in \($0)" } ?? "an authority the system trusts (set RedisTLS.caFile or ?ca=)"
                return RedisClientError(.tlsFailed, "the TLS certificate of \(server) is not signed by \(authority) (CERTIFICATE_VERIFY_FAILED)")
            }
            if ["WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST", "UNKNOWN_PROTOCOL", "RECORD_TOO_LARGE"].contains(where: text.contains) {
                return RedisClientError(.tlsFailed, "\(server) does not speak TLS on that port (\(text)): is it a plain redis:// port?")
            }
            if text.contains("EOF during handshake") {
                return RedisClientError(.tlsFailed, "\(server) closed the connection during the TLS handshake (is it a plain redis:// port?)")
            }
            return RedisClientError(.tlsFailed, "the TLS handshake with \(server) failed (\(text))")
        case .uncleanShutdown:
            return RedisClientError(.connectionClosed, "\(server) closed the TLS connection without a TLS close")
        default:
            return RedisClientError(.tlsFailed, "TLS with \(server) failed: \(error)")
        }
    }

    /// BoringSSL's reason names (`CERTIFICATE_VERIFY_FAILED`), without error codes and source paths.
    private static func reason(_ error: BoringSSLError) -> String {
        let text: String
        switch error {
        case .sslError(let stack), .unknownError(let stack):
            let reasons = stack.map { item -> String in
                let description = "\(item)"
                // "Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at /path:123"
                var reason = Substring(description)
                if let internalRange = reason.firstRange(of: "OPENSSL_internal:") { reason = reason[internalRange.upperBound...] }
                if let at = reason.firstRange(of: " at ") { reason = reason[..<at.lowerBound] }
                return String(reason)
            }
            text = reasons.joined(separator: ", ")
        default:
            text = "\(error)"
        }
        return text.isEmpty ? "\(error)" : text
    }
}
