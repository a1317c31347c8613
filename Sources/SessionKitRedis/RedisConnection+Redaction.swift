/// A connection's options hold the password: printing or dumping them (or a store, whose pool holds
/// them) shows `********` in its place.
///
/// ```swift
/// print(options)   // RedisConnection.Options(host: 127.0.0.1, port: 6379, password: ********, ...)
/// ```
extension RedisConnection.Options: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    package var description: String {
        "RedisConnection.Options(host: \(host), port: \(port), database: \(database), username: \(username ?? "nil"), "
            + "password: \(password == nil ? "nil" : "********"), tls: \(tls == nil ? "off" : "on"))"
    }

    package var debugDescription: String { description }

    package var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host, "port": port, "username": username as Any, "password": password.map { _ in "********" } as Any,
                "database": database, "connectTimeout": connectTimeout, "commandTimeout": commandTimeout,
                "clientName": clientName as Any, "tls": tls as Any,
            ],
            displayStyle: .struct
        )
    }
}
