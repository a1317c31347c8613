import SessionKit

/// Settings of ``RedisSessionStore``: where Redis is, how keys are named, and how the store talks to it.
///
/// ```swift
/// let store = RedisSessionStore(configuration: .init(host: "redis.internal", port: 6379, password: secret, keyPrefix: "myapp:sessions"))
/// // or from a URL: redis://[[username]:password@]host[:port][/database]
/// let fromURL = RedisSessionStore(configuration: try RedisSessionStoreConfiguration(url: "redis://:secret@127.0.0.1:6379/2"))
/// // TLS, the server verified against a CA file: rediss://...?ca=/path/to/ca.pem
/// let overTLS = RedisSessionStore(configuration: try RedisSessionStoreConfiguration(url: "rediss://app:secret@redis.internal:6380/0?ca=/etc/redis/ca.pem"))
/// ```
public struct RedisSessionStoreConfiguration: Sendable {
    /// The server's host name or address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// The database number (`SELECT`), 0 by default.
    public var database: Int
    /// The password (`AUTH`); never logged or put in an error message.
    public var password: String?
    /// Every key the store writes starts with this and a colon: `prefix:s:<key hash>` (a session),
    /// `prefix:u:<user>` (a user's sessions), `prefix:owners` and `prefix:expiry` (indexes).
    public var keyPrefix: String
    /// How many connections the store keeps (commands are pipelined on each).
    public var poolSize: Int
    /// The ACL user for `AUTH` (Redis 6 and later); `nil` authenticates as the default user.
    public var username: String?
    /// How long opening a TCP connection may take (`AUTH` and `SELECT` then have the command timeout).
    public var connectTimeout: Duration
    /// How long one command may wait for its reply; on timeout the connection is replaced.
    public var commandTimeout: Duration
    /// How often ``RedisSessionStore/run()`` removes expired sessions from the indexes.
    public var cleanupInterval: Duration
    /// How many expired sessions one cleanup script removes; cleanup loops until none are left.
    public var cleanupBatchSize: Int
    /// The name the connections give themselves (`CLIENT SETNAME`, visible in `CLIENT LIST`).
    public var clientName: String?
    /// TLS for the connections (what `rediss://` sets); `nil`, the default, connects in plain text.
    /// See ``RedisTLS``: the server is verified unless ``RedisTLS/verifyServer`` is `false`.
    public var tls: RedisTLS?

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        database: Int = 0,
        password: String? = nil,
        keyPrefix: String = "sessionkit",
        poolSize: Int = 4,
        username: String? = nil,
        connectTimeout: Duration = .seconds(5),
        commandTimeout: Duration = .seconds(5),
        cleanupInterval: Duration = .seconds(60),
        cleanupBatchSize: Int = 1000,
        clientName: String? = "sessionkit",
        tls: RedisTLS? = nil
    ) {
        self.tls = tls
        self.host = host
        self.port = port
        self.database = database
        self.password = password
        self.keyPrefix = keyPrefix
        self.poolSize = poolSize
        self.username = username
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.cleanupInterval = cleanupInterval
        self.cleanupBatchSize = cleanupBatchSize
        self.clientName = clientName
    }

    /// Settings from a URL, `redis://[[username]:password@]host[:port][/database]` (user name and
    /// password percent-decoded), or `rediss://` for TLS, with the other settings as given.
    ///
    /// A `rediss://` URL verifies the server by default, against the system's trust roots; its
    /// query may name a CA file, `?ca=/path/to/ca.pem`, a name the certificate must carry,
    /// `&servername=redis.internal`, or turn verification off, `&verify=none` (for development
    /// only: anyone in the middle could read the sessions). Throws
    /// ``SessionStoreError/Code/unavailable`` for anything else; the message never contains the password.
    public init(url: String, keyPrefix: String = "sessionkit", poolSize: Int = 4) throws {
        self.init(keyPrefix: keyPrefix, poolSize: poolSize)
        func invalid(_ why: String) -> SessionStoreError {
            SessionStoreError(
                .unavailable,
                "invalid Redis URL (\(why)); expected redis[s]://[[username]:password@]host[:port][/database][?ca=path&verify=full|none&servername=name]"
            )
        }
        var rest: Substring
        if url.hasPrefix("redis://") {
            rest = Substring(url.dropFirst("redis://".count))
        } else if url.hasPrefix("rediss://") {
            rest = Substring(url.dropFirst("rediss://".count))
            tls = RedisTLS()
        } else {
            throw invalid("not redis:// or rediss://")
        }
        if let mark = rest.firstIndex(of: "?") {
            let query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
            for parameter in query.split(separator: "&") {
                let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                guard let value = Self.percentDecoded(parts.count == 2 ? parts[1] : "") else { throw invalid("bad encoding in \(name)") }
                guard ["ca", "verify", "servername"].contains(name) else { throw invalid("unknown parameter \(name)") }
                guard var settings = tls else { throw invalid("\(name) is a TLS setting: use rediss://") }
                switch name {
                case "ca":
                    guard !value.isEmpty else { throw invalid("empty ca") }
                    settings.caFile = value
                case "verify":
                    switch value {
                    case "full": settings.verifyServer = true
                    case "none": settings.verifyServer = false
                    default: throw invalid("verify must be full or none")
                    }
                default:
                    guard !value.isEmpty else { throw invalid("empty servername") }
                    settings.serverName = value
                }
                tls = settings
            }
        }
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = try Self.percentDecoded(userInfo[..<colon]) ?? { throw invalid("bad user name") }()
                username = user.isEmpty ? nil : user
                password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...]) ?? { throw invalid("bad password encoding") }()
            } else {
                // redis://password@host, as some clients accept.
                password = try Self.percentDecoded(userInfo) ?? { throw invalid("bad password encoding") }()
            }
        }
        var hostPort = rest
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else { throw invalid("bad database number") }
                database = number
            }
        }
        if hostPort.hasPrefix("[") {
            // [IPv6]:port
            guard let close = hostPort.firstIndex(of: "]") else { throw invalid("bad IPv6 address") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") {
                guard let number = Int(after.dropFirst()), (1...65535).contains(number) else { throw invalid("bad port") }
                port = number
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let number = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(number) else { throw invalid("bad port") }
            port = number
        } else {
            host = String(hostPort)
        }
        if host.isEmpty { host = "127.0.0.1" }
    }

    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
