/// TLS for the connections of ``RedisSessionStore`` (a `rediss://` URL): how the client checks
/// the server it talks to.
///
/// By default the server's certificate must chain to a trusted certificate authority (the CA file
/// given, or the system's trust roots when there is none) and must name the host connected to
/// (its DNS name, or its IP address when the host is one). ``verifyServer`` `false` turns both
/// checks off: the connection is encrypted but anyone in the middle can read and change it, so
/// that is for development only.
///
/// ```swift
/// var configuration = RedisSessionStoreConfiguration(host: "redis.internal", password: secret)
/// configuration.tls = RedisTLS(caFile: "/etc/redis/ca.pem")
/// // or from a URL: rediss://:secret@redis.internal:6379/0?ca=/etc/redis/ca.pem
/// let store = RedisSessionStore(configuration: configuration)
/// ```
public struct RedisTLS: Sendable, Hashable {
    /// A PEM file with the certificate(s) of the authorities that sign the server's certificate;
    /// `nil` trusts the system's default roots (as for a managed Redis with a public certificate).
    public var caFile: String?
    /// Whether to check the server's certificate chain and name (the default). `false` accepts any
    /// certificate: for development only, never in production.
    public var verifyServer: Bool
    /// The name the certificate must carry, and the one sent as SNI; `nil` uses the configuration's
    /// host (an IP address host is matched against the certificate's IP addresses, without SNI).
    /// Set it when connecting by address to a server whose certificate names a host.
    public var serverName: String?

    /// TLS that verifies the server against `caFile` (or the system's roots when `nil`).
    public init(caFile: String? = nil, verifyServer: Bool = true, serverName: String? = nil) {
        self.caFile = caFile
        self.verifyServer = verifyServer
        self.serverName = serverName
    }

    /// TLS with the server checked against the system's trust roots.
    public static var verified: RedisTLS { RedisTLS() }

    /// TLS without any check of the server: encrypted, but not authenticated. Development only.
    public static var unverified: RedisTLS { RedisTLS(verifyServer: false) }
}
