import Logging
import PostgresNIO
import SessionKit

extension PostgresConnectionURL {
    /// Opens one connection with these settings, runs `SELECT 1` and closes it, then opens one of
    /// the store's own request-path connections (``PostgresSessionStore/init(url:configuration:clock:logger:)``)
    /// and closes it, failing with a
    /// ``/SessionKit/SessionStoreError`` that says why: the server is unreachable, does not speak TLS, its
    /// certificate is not signed by the CA of `sslrootcert` or does not name the host, the role or
    /// password is refused, the database does not exist. A `PostgresClient` keeps retrying such
    /// failures in the background, so an operation of the store only sees a connection that never
    /// comes (``/SessionKit/SessionStoreError/Code/unavailable`` after
    /// ``PostgresSessionStoreConfiguration/connectionTimeout``); call this at startup to learn the
    /// reason instead. Gives up after `timeout` (the URL's `connect_timeout`, or 10 seconds).
    ///
    /// ```swift
    /// let url = try PostgresConnectionURL(env["SESSIONKIT_STORE_URL"]!, passwordEnvironmentVariable: "SESSIONKIT_STORE_PASSWORD")
    /// try await url.checkConnection()     // "... the server's certificate is not signed by a CA in sslrootcert ..."
    /// ```
    public func checkConnection(
        timeout: Duration? = nil,
        logger: Logger = Logger(label: "SessionKit.PostgresConnectionURL")
    ) async throws {
        let tls: PostgresConnection.Configuration.TLS
        switch try tlsConfiguration() {
        case .none:
            tls = .disable
        case .prefer(let configuration):
            tls = .prefer(try makeContext(configuration))
        case .require(let configuration):
            tls = .require(try makeContext(configuration))
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        configuration.options.additionalStartupParameters = startupParameters
        let timeout = timeout ?? connectTimeout ?? .seconds(10)
        configuration.options.connectTimeout = .nanoseconds(Int64(Self.milliseconds(timeout)) * 1_000_000)
        let target = self
        let connectionConfiguration = configuration

        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Both steps end when the task is cancelled: connect() cancels itself, and the
                    // query ends with the connection that the cancellation closes.
                    let connection = try await PostgresConnection.connect(configuration: connectionConfiguration, id: 0, logger: logger)
                    do {
                        try await withTaskCancellationHandler {
                            _ = try await connection.query("SELECT 1", logger: logger).collect()
                        } onCancel: {
                            let _: EventLoopFuture<Void> = connection.close()
                        }
                    } catch {
                        try? await connection.close()
                        throw error
                    }
                    try await connection.close()
                    // The store's own connections start up on their own code (TLS, authentication).
                    let options = try target.makeWireOptions(connectionTimeout: timeout)
                    let wire = try await PostgresWireConnection.connect(to: options).get()
                    wire.close()
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw CheckTimeout()
                }
                defer { group.cancelAll() }
                _ = try await group.next()
            }
        } catch {
            throw target.explain(error, timeout: timeout)
        }
    }

    private func makeContext(_ configuration: TLSConfiguration) throws -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw SessionStoreError(.unavailable, "PostgreSQL \(target): cannot set up TLS (\(error))")
        }
    }

    /// The server, for messages: `user@host:port/database`, never the password.
    var target: String { "\(username)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database ?? username)" }

    /// A ``/SessionKit/SessionStoreError`` that says why connecting failed, in words, without the password.
    func explain(_ error: any Error, timeout: Duration) -> SessionStoreError {
        let prefix = "PostgreSQL \(target)"
        if let error = error as? SessionStoreError { return error }
        if error is CheckTimeout {
            return SessionStoreError(.unavailable, "\(prefix): no connection within \(timeout) (unreachable, or not a PostgreSQL server)")
        }
        if error is CancellationError { return SessionStoreError(.unavailable, "\(prefix): the connection check was cancelled") }
        if let error = error as? PostgresWireError { return SessionStoreError(.unavailable, "\(prefix): \(error.message)") }
        let underlying = (error as? PSQLError)?.underlying ?? error
        if let tlsError = underlying as? NIOSSLExtraError, tlsError == .failedToValidateHostname {
            return SessionStoreError(.unavailable, "\(prefix): the server's certificate does not name the host '\(host)' (sslmode=verify-full checks it)")
        }
        if let tlsError = underlying as? NIOSSLError {
            if case .handshakeFailed(let reason) = tlsError, "\(reason)".contains("CERTIFICATE_VERIFY_FAILED") {
                return SessionStoreError(.unavailable, "\(prefix): the server's certificate is not signed by a CA in sslrootcert (\(sslRootCertificate ?? "")): the TLS handshake failed (certificate verify failed)")
            }
            return SessionStoreError(.unavailable, "\(prefix): the TLS handshake failed (\(tlsError))")
        }
        if let postgresError = error as? PSQLError {
            switch postgresError.code {
            case .sslUnsupported:
                return SessionStoreError(.unavailable, "\(prefix): the server does not accept TLS (sslmode=\(sslMode)): turn ssl on in the server, or use sslmode=disable on a trusted network")
            case .authMechanismRequiresPassword:
                return SessionStoreError(.unavailable, "\(prefix): the server asks for a password and none was given (put it in the URL or in the password environment variable)")
            case .server:
                let state = postgresError.serverInfo?[.sqlState] ?? "unknown"
                let message = postgresError.serverInfo?[.message] ?? ""
                switch state {
                case "28P01", "28000":
                    return SessionStoreError(.unavailable, "\(prefix): the server refused the role '\(username)' (SQLSTATE \(state): \(message))")
                case "3D000":
                    return SessionStoreError(.unavailable, "\(prefix): the database does not exist (SQLSTATE 3D000)")
                default:
                    return SessionStoreError(.unavailable, "\(prefix): the server reported an error (SQLSTATE \(state): \(message))")
                }
            default:
                if let cause = postgresError.underlying {
                    return SessionStoreError(.unavailable, "\(prefix): cannot connect (\(postgresError.code): \(cause))")
                }
                return SessionStoreError(.unavailable, "\(prefix): cannot connect (\(postgresError.code))")
            }
        }
        return SessionStoreError(.unavailable, "\(prefix): cannot connect (\(error))")
    }
}

/// ``PostgresConnectionURL/checkConnection(timeout:logger:)`` gave up waiting.
private struct CheckTimeout: Error {}
