import Logging
import PostgresNIO
import SessionKit

extension PostgresSessionStore {
    /// A store with its own `PostgresClient` for the server of `url` (see ``PostgresConnectionURL``
    /// for the TLS modes, the statement timeout and where the password comes from); it logs the
    /// pool's background events, such as failed connection attempts, to `logger`. The URL's
    /// `prepared_statements=off` turns ``PostgresSessionStoreConfiguration/usesPreparedStatements``
    /// off. Throws
    /// ``/SessionKit/SessionStoreError`` when the CA file of `sslrootcert` cannot be read.
    ///
    /// ```swift
    /// let url = try PostgresConnectionURL(
    ///     "postgres://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem",
    ///     passwordEnvironmentVariable: "SESSIONKIT_STORE_PASSWORD"
    /// )
    /// let store = try PostgresSessionStore(url: url)
    /// let group = ServiceGroup(configuration: .init(services: [store, app], logger: logger))
    /// ```
    public convenience init(
        url: PostgresConnectionURL,
        configuration: PostgresSessionStoreConfiguration = .init(),
        clock: @escaping @Sendable () -> Int64 = SessionClock.system,
        logger: Logger = Logger(label: "SessionKit.PostgresSessionStore")
    ) throws {
        let clientConfiguration = try url.makeClientConfiguration()
        var configuration = configuration
        if !url.usesPreparedStatements { configuration.usesPreparedStatements = false }
        self.init(
            client: PostgresClient(configuration: clientConfiguration, backgroundLogger: logger),
            configuration: configuration, clock: clock, logger: logger
        )
    }
}
