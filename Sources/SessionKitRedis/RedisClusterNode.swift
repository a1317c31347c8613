/// The address of one Redis Cluster node: a seed in ``RedisSessionStoreConfiguration/clusterNodes``,
/// or a master the cluster names in its slot map or a redirection.
///
/// ```swift
/// var configuration = RedisSessionStoreConfiguration(keyPrefix: "myapp")
/// configuration.clusterNodes = [RedisClusterNode(host: "10.0.0.1", port: 7000), RedisClusterNode(host: "10.0.0.2", port: 7000)]
/// // or: try RedisSessionStoreConfiguration(url: "redis://10.0.0.1:7000,10.0.0.2:7000/0?cluster=1", keyPrefix: "myapp")
/// ```
public struct RedisClusterNode: Sendable, Hashable, CustomStringConvertible {
    /// The node's host name or address.
    public var host: String
    /// The node's client port.
    public var port: Int

    public init(host: String, port: Int = 6379) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with an IPv6 address in brackets.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// A node from `host:port` as Redis writes it in `MOVED` and `ASK` (the host may be an IPv6
    /// address without brackets: the port is after the last colon).
    init?(redirect address: Substring) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = address[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        self.init(host: String(host), port: port)
    }
}
