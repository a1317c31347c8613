import SessionKit

/// Settings of ``RedisSessionStore``: where Redis is, how keys are named, and how the store talks to it.
///
/// ```swift
/// let store = RedisSessionStore(configuration: .init(host: "redis.internal", port: 6379, password: secret, keyPrefix: "myapp:sessions"))
/// // or from a URL: redis://[[username]:password@]host[:port][/database]
/// let fromURL = RedisSessionStore(configuration: try RedisSessionStoreConfiguration(url: "redis://:secret@127.0.0.1:6379/2"))
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
        clientName: String? = "sessionkit"
    ) {
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
    /// password percent-decoded), with the other settings as given. Throws
    /// ``SessionStoreError/Code/unavailable`` for anything else; the message never contains the password.
    public init(url: String, keyPrefix: String = "sessionkit", poolSize: Int = 4) throws {
        self.init(keyPrefix: keyPrefix, poolSize: poolSize)
        func invalid(_ why: String) -> SessionStoreError {
            SessionStoreError(.unavailable, "invalid Redis URL (\(why)); expected redis://[[username]:password@]host[:port][/database]")
        }
        guard url.hasPrefix("redis://") else { throw invalid("not redis://") }
        var rest = Substring(url.dropFirst("redis://".count))
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
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
