import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import SessionKit

extension PostgresSessionStore {
    /// A store for the server of `url` (see ``PostgresConnectionURL`` for the TLS modes, the
    /// statement timeout and where the password comes from); it logs the connections' background
    /// events, such as failed connection attempts, to `logger`. The URL's `prepared_statements=off`
    /// turns ``PostgresSessionStoreConfiguration/usesPreparedStatements`` off. Throws
    /// ``/SessionKit/SessionStoreError`` when the CA file of `sslrootcert` cannot be read.
    ///
    /// A request's statements (load, touch, the writes, create and delete) run on connections of
    /// the store's own, `pool_size` of them: pipelined (many requests share a connection, their
    /// answers come back in order) and prepared once per connection, at a fraction of the CPU a
    /// `PostgresClient` lease costs (BENCHMARKS.md). The migration, cleanup, renames and the
    /// per-user statements run on a `PostgresClient` of two connections (``client``).
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
        var configuration = configuration
        if !url.usesPreparedStatements { configuration.usesPreparedStatements = false }
        var clientURL = url
        clientURL.poolSize = min(url.poolSize, Self.clientPoolSize)
        let clientConfiguration = try clientURL.makeClientConfiguration()
        let wirePool = PostgresWirePool(options: try url.makeWireOptions(connectionTimeout: configuration.connectionTimeout), size: url.poolSize)
        self.init(
            client: PostgresClient(configuration: clientConfiguration, backgroundLogger: logger), wirePool: wirePool,
            configuration: configuration, clock: clock, logger: logger
        )
    }

    /// The connections of the `PostgresClient` of a store made from a URL: the statements it runs
    /// are rare (the migration, cleanup, renames, the per-user statements).
    static let clientPoolSize = 2
}

extension PostgresConnectionURL {
    /// The settings of SessionKit's own connections for this URL. Connecting may take
    /// `connectionTimeout` (or the URL's `connect_timeout` when shorter); a statement's answer, the
    /// statement timeout (60 seconds when it is off) and `connectionTimeout` more, after which the
    /// connection is given up (a server that stopped answering without closing it).
    func makeWireOptions(connectionTimeout: Duration) throws -> PostgresWireConnection.Options {
        let tls: PostgresWireConnection.Options.TLS
        do {
            switch try tlsConfiguration() {
            case .none: tls = .disable
            case .prefer(let configuration): tls = .prefer(try NIOSSLContext(configuration: configuration))
            case .require(let configuration): tls = .require(try NIOSSLContext(configuration: configuration))
            }
        } catch let error as SessionStoreError {
            throw error
        } catch {
            throw SessionStoreError(.unavailable, "PostgreSQL URL: cannot set up TLS (\(error))")
        }
        let connect = connectTimeout.map { min($0, connectionTimeout) } ?? connectionTimeout
        let statement = statementTimeout == .zero ? Duration.seconds(60) : statementTimeout
        return PostgresWireConnection.Options(
            host: host, port: port, username: username, password: password, database: database, tls: tls,
            parameters: startupParameters,
            connectTimeout: Self.timeAmount(connect), replyTimeout: Self.timeAmount(statement + connectionTimeout)
        )
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension PostgresSessionStore: CustomReflectable {
    /// What `dump` and debuggers show: the configuration and the size of the store's own pool,
    /// never ``client`` (postgres-nio's configuration in it holds the password in plain text).
    public var customMirror: Mirror {
        Mirror(self, children: ["configuration": configuration, "ownConnections": wirePool?.size as Any], displayStyle: .class)
    }
}
