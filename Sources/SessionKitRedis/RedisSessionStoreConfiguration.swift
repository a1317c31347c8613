import SessionKit

/// Settings of ``RedisSessionStore``: where Redis is, how keys are named, and how the store talks to it.
///
/// ```swift
/// let store = RedisSessionStore(configuration: .init(host: "redis.internal", port: 6379, password: secret, keyPrefix: "myapp:sessions"))
/// // or from a URL: redis://[[username]:password@]host[:port][/database]
/// let fromURL = RedisSessionStore(configuration: try RedisSessionStoreConfiguration(url: "redis://:secret@127.0.0.1:6379/2"))
/// // TLS, the server verified against a CA file: rediss://...?ca=/path/to/ca.pem
/// let overTLS = RedisSessionStore(configuration: try RedisSessionStoreConfiguration(url: "rediss://app:secret@redis.internal:6380/0?ca=/etc/redis/ca.pem"))
/// // Redis Cluster, from any of its nodes: redis://host1:port1,host2:port2/0?cluster=1
/// let onCluster = RedisSessionStore(configuration: try RedisSessionStoreConfiguration(url: "redis://10.0.0.1:7000,10.0.0.2:7000/0?cluster=1", keyPrefix: "myapp"))
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
    /// `prefix:u:<user>` (a user's sessions), `prefix:owners` and `prefix:expiry` (indexes). With
    /// ``clusterNodes``, the prefix is a hash tag, `{prefix}:s:<key hash>` and so on; it must not be empty.
    public var keyPrefix: String
    /// How many connections the store keeps (to each node of a cluster); commands are pipelined on
    /// each. One by default: every request's command goes down one connection, so one system call
    /// carries many commands each way, for the app and for Redis (which runs commands one at a time
    /// whatever the number of connections). On 2 cores, one connection served about 10-30 % more
    /// requests than four and cost Redis less than half the system time (BENCHMARKS.md, round 12).
    /// Raise it when one event-loop thread becomes the limit (many cores and TLS), or to spread the
    /// requests that one broken connection fails.
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
    /// Redis Cluster: some of its nodes (any of them; the store learns the others from `CLUSTER
    /// SHARDS`). Empty, the default, talks to the single server ``host`` and ``port`` name.
    ///
    /// In a cluster every key of the store carries the hash tag of the prefix, `{prefix}:s:<hash>`,
    /// `{prefix}:u:<user>`, `{prefix}:owners`, `{prefix}:expiry`, so all of one prefix's keys live in
    /// one slot: every script stays one atomic step on one node, "sign out everywhere" and ID
    /// rotation included. It follows that all sessions of a prefix live on one master (and its
    /// replicas): to spread load over masters, give apps (or tenants) different prefixes. This was
    /// chosen over spreading sessions across slots with cross-slot user indexes, which would make
    /// revoking a user's sessions and renaming a session no longer atomic. ``database`` must be 0
    /// (a cluster has no other); ``password``, ``username`` and ``tls`` apply to every node.
    public var clusterNodes: [RedisClusterNode] = []
    /// Whether a read moves a due idle deadline in the same round trip. `false` (the default): a
    /// read is one `HGETALL`, and a read whose touch is due (once per
    /// `SessionConfiguration.touchFraction` of the idle window, per session) adds a second round
    /// trip, the touch script. `true`: every read is one `EVALSHA` of the load script, which saves
    /// that second round trip but costs Redis about 5 µs of CPU more on every read than `HGETALL`
    /// (10.5-11.9 µs against 5.8-8.0 µs a request, I/O included; Redis serves 0.62x-0.91x as many,
    /// BENCHMARKS.md), so it pays only where round trips are dear and Redis's CPU is not.
    public var touchesInLoad = false

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        database: Int = 0,
        password: String? = nil,
        keyPrefix: String = "sessionkit",
        poolSize: Int = 1,
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
    /// only: anyone in the middle could read the sessions).
    ///
    /// Redis Cluster: `?cluster=1` (or `cluster=true`), with one or more of its nodes separated by
    /// commas, `redis://[[username]:password@]host1:port1,host2:port2[/0]?cluster=1`, or `rediss://`
    /// with the TLS settings, which apply to every node, as the password does. The database can
    /// only be 0. Several hosts without `cluster=1` are an error. See ``clusterNodes``.
    ///
    /// Throws ``/SessionKit/SessionStoreError/Code/unavailable`` for anything else; the message never contains
    /// the password.
    public init(url: String, keyPrefix: String = "sessionkit", poolSize: Int = 1) throws {
        self.init(keyPrefix: keyPrefix, poolSize: poolSize)
        func invalid(_ why: String) -> SessionStoreError {
            SessionStoreError(
                .unavailable,
                "invalid Redis URL (\(why)); expected redis[s]://[[username]:password@]host[:port][,host:port...][/database][?ca=path&verify=full|none&servername=name&cluster=1]"
            )
        }
        var cluster = false
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
                if name == "cluster" {
                    switch value {
                    case "1", "true", "yes": cluster = true
                    case "0", "false", "no": cluster = false
                    default: throw invalid("cluster must be 1 or 0")
                    }
                    continue
                }
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
        let parts = hostPort.split(separator: ",", omittingEmptySubsequences: false)
        if parts.count > 1, parts.contains(where: \.isEmpty) { throw invalid("an empty host in the list") }
        let nodes = try parts.map { part in
            try Self.node(part) ?? { throw invalid("bad host or port") }()
        }
        guard let first = nodes.first else { throw invalid("no host") }
        host = first.host
        port = first.port
        if cluster {
            guard database == 0 else { throw invalid("a Redis Cluster has database 0 only") }
            clusterNodes = nodes
        } else if nodes.count > 1 {
            throw invalid("several hosts are for Redis Cluster: add ?cluster=1")
        }
    }

    /// `host`, `host:port`, `[IPv6]` or `[IPv6]:port` (6379 by default; an empty host is 127.0.0.1).
    private static func node(_ text: Substring) -> RedisClusterNode? {
        var host: String
        var port = 6379
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                guard let number = Int(after.dropFirst()), (1...65535).contains(number) else { return nil }
                port = number
            } else if !after.isEmpty {
                return nil
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            guard let number = Int(text[text.index(after: colon)...]), (1...65535).contains(number) else { return nil }
            port = number
        } else {
            host = String(text)
        }
        if host.isEmpty { host = "127.0.0.1" }
        return RedisClusterNode(host: host, port: port)
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
