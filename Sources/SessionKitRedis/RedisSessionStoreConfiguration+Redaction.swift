/// The configuration printed without its password: `print`, `dump`, `String(describing:)`,
/// `String(reflecting:)` and interpolation show `********` in its place.
///
/// ```swift
/// let configuration = try RedisSessionStoreConfiguration(url: "redis://app:secret@redis.internal:6379/2")
/// print(configuration)   // redis://app:********@redis.internal:6379/2 (keyPrefix: sessionkit, poolSize: 1)
/// ```
extension RedisSessionStoreConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The server as a URL, with `********` for the password, and the other settings.
    public var description: String {
        var text = tls == nil ? "redis://" : "rediss://"
        if username != nil || password != nil {
            text += username ?? ""
            if password != nil { text += ":********" }
            text += "@"
        }
        if clusterNodes.isEmpty {
            text += (host.contains(":") ? "[\(host)]" : host) + ":\(port)/\(database)"
        } else {
            text += clusterNodes.map(\.description).joined(separator: ",") + "/\(database)?cluster=1"
        }
        text += " (keyPrefix: \(keyPrefix), poolSize: \(poolSize)"
        if let tls {
            text += ", verifyServer: \(tls.verifyServer)"
            if let caFile = tls.caFile { text += ", ca: \(caFile)" }
            if let serverName = tls.serverName { text += ", servername: \(serverName)" }
        }
        return text + ")"
    }

    /// The same as ``description``: the password is never shown.
    public var debugDescription: String { "RedisSessionStoreConfiguration(\(description))" }

    /// What `dump` and debuggers show: the settings, with the password as `********` (or `nil`).
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host, "port": port, "database": database, "password": password.map { _ in "********" } as Any,
                "keyPrefix": keyPrefix, "poolSize": poolSize, "username": username as Any,
                "connectTimeout": connectTimeout, "commandTimeout": commandTimeout, "cleanupInterval": cleanupInterval,
                "cleanupBatchSize": cleanupBatchSize, "clientName": clientName as Any, "tls": tls as Any, "clusterNodes": clusterNodes,
                "touchesInLoad": touchesInLoad,
            ],
            displayStyle: .struct
        )
    }
}
