import Foundation
import PostgresNIO
import SessionKit

/// A PostgreSQL connection URL, as libpq and most tools write it, parsed into the
/// `PostgresClient.Configuration` of a ``PostgresSessionStore``:
///
///     postgres://user[:password]@host[:port][/database][?parameter=value&...]
///
/// `postgresql://` works too. The user name, password, host, database and parameter values are
/// percent-decoded (write `%40` for `@`, `%3A` for `:`, `%2F` for `/` in a password). The port is
/// 5432 unless given; without a database the server uses the user name. Parameters:
///
/// - `sslmode`: `disable` (plain TCP; only on a trusted network), `prefer` (TLS when the server
///   offers it, without checking its certificate), `require` (the default: TLS or no connection,
///   without checking the certificate, as libpq's `require`; with `sslrootcert` the certificate
///   chain is checked, again as in libpq), `verify-ca` (TLS, the chain checked against
///   `sslrootcert`) or `verify-full` (as `verify-ca`, and the certificate must also name the host:
///   a DNS name in its subject alternative names, or for a host given as an IP address, that IP).
/// - `sslrootcert`: the PEM file of the CA certificates to trust; required by `verify-ca` and
///   `verify-full`. `sslrootcert=system` trusts the system's CA store instead.
/// - `statement_timeout`: how long one statement may run before the server cancels it, sent as a
///   startup parameter: a whole number with an optional unit `us`, `ms` (the default unit, as in
///   PostgreSQL), `s`, `min`, `h` or `d`; `0` turns it off. Default: 5 seconds, so that a stuck
///   statement fails a request instead of holding a pooled connection forever.
/// - `connect_timeout`: how long to wait for the TCP connection, in seconds unless a unit is given
///   (postgres-nio's default, 10 seconds, when absent).
/// - `application_name`: shown in `pg_stat_activity`.
/// - `prepared_statements`: `on` (the default) or `off`: whether the store's frequent statements
///   run prepared (``PostgresSessionStoreConfiguration/usesPreparedStatements``). `off` behind a
///   pooler that cannot keep prepared statements per client (PgBouncer in transaction mode before
///   1.21, or without `max_prepared_statements`).
/// - `pool_size`: how many connections a store made from this URL keeps for its requests, from 1 to
///   1000 (default 4). They are SessionKit's own: each carries many requests at once (pipelined,
///   answers in order), so a few are enough; the migration, cleanup, renames and per-user
///   statements use a `PostgresClient` of two more. Count the app servers: each keeps
///   `pool_size` + 2 connections of the server's `max_connections`. For a `PostgresClient` made
///   with ``makeClientConfiguration()``, `pool_size` is its `minimumConnections` and
///   `maximumConnections` both (no idle timers, see below).
///
/// Any other parameter is an error, not silently ignored (a misspelt `sslmode` must not mean
/// plain text). Errors are ``/SessionKit/SessionStoreError``s with code ``/SessionKit/SessionStoreError/Code/unavailable``
/// whose message says what is wrong and never repeats the password, nor any other part of the URL
/// where a password written without percent-encoding could have ended up.
///
/// Why the pool is fixed, and its keep-alive every 5 seconds (postgres-nio's defaults: a pool that
/// grows to 20 and closes a connection idle for 60 seconds, keep-alive after 30): the pool arms a
/// keep-alive timer, and beyond its minimum an idle timer, each time a connection goes back to it,
/// and cancels them when the connection is leased again; a cancelled `Task.sleep` keeps about 700
/// bytes until its original deadline (Swift 6.3 on Linux), so under load the cancelled timers of
/// the last 30 to 60 seconds hold hundreds of megabytes (a session demo under the soak: 350 MB and
/// growing, against 40 MB on the other stores). The fixed pool has no idle timers, and the shorter
/// keep-alive holds its cancelled timers for 5 seconds: a tenth of the memory, and a `SELECT 1` on
/// an idle connection every 5 seconds, which also keeps NAT and firewall entries alive.
///
/// The password comes from the URL or, when the URL has none, from the environment variable
/// named by `passwordEnvironmentVariable`, then from `PGPASSWORD`, as libpq does. The
/// ``description``, ``debugDescription`` and `dump` of a URL show `********` in its place.
///
/// ```swift
/// // SESSIONKIT_STORE_URL=postgres://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem
/// // SESSIONKIT_STORE_PASSWORD=...
/// let url = try PostgresConnectionURL(
///     env["SESSIONKIT_STORE_URL"] ?? "", passwordEnvironmentVariable: "SESSIONKIT_STORE_PASSWORD"
/// )
/// try await url.checkConnection()                 // optional: fail at startup with the real reason
/// let store = try PostgresSessionStore(url: url)  // or PostgresClient(configuration: url.makeClientConfiguration())
/// ```
public struct PostgresConnectionURL: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// How the connection uses TLS (the URL's `sslmode`, with libpq's meanings).
    public struct SSLMode: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, CaseIterable {
            case disable
            case prefer
            case require
            case verifyCA = "verify-ca"
            case verifyFull = "verify-full"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Plain TCP, no TLS.
        public static let disable = SSLMode(.disable)
        /// TLS when the server offers it, plain TCP otherwise; the certificate is not checked.
        public static let prefer = SSLMode(.prefer)
        /// TLS or no connection; the certificate is not checked, unless `sslrootcert` is given
        /// (then its chain is, as in libpq).
        public static let require = SSLMode(.require)
        /// TLS; the certificate chain is checked against `sslrootcert`, not the host name.
        public static let verifyCA = SSLMode(.verifyCA)
        /// TLS; the certificate chain is checked against `sslrootcert` and must name the host.
        public static let verifyFull = SSLMode(.verifyFull)

        /// The mode as written in a URL (`verify-full`).
        public var description: String { base.rawValue }

        init?(parameter: String) {
            guard let base = Base(rawValue: parameter) else { return nil }
            self.init(base)
        }

        static let allNames = Base.allCases.map(\.rawValue).joined(separator: ", ")
    }

    /// The server's host name or IP address (an IPv6 address without its brackets).
    public var host: String
    /// The server's TCP port.
    public var port: Int
    /// The role to log in as.
    public var username: String
    /// The password, from the URL or the environment; never shown by ``description``, ``debugDescription`` or `dump`.
    public var password: String?
    /// The database, or `nil` for the server's default (a database named like the user).
    public var database: String?
    /// How the connection uses TLS.
    public var sslMode: SSLMode
    /// The PEM file of the CA certificates to trust (`sslrootcert`), or `"system"` for the system's store.
    public var sslRootCertificate: String?
    /// How long one statement may run before the server cancels it; `.zero` for no limit.
    public var statementTimeout: Duration
    /// How long to wait for the TCP connection, or `nil` for postgres-nio's default.
    public var connectTimeout: Duration?
    /// The `application_name` the server shows in `pg_stat_activity`.
    public var applicationName: String?
    /// Whether the store runs its frequent statements prepared (`prepared_statements`, `on` by default).
    public var usesPreparedStatements = true
    /// How many connections a store made from the URL keeps for its requests, or a
    /// `PostgresClient` made from it keeps open (`pool_size`, ``defaultPoolSize`` unless given).
    public var poolSize: Int = defaultPoolSize

    /// The ``poolSize`` when the URL gives none.
    public static let defaultPoolSize = 4
    /// How long a pooled connection is idle before it runs a keep-alive `SELECT 1`.
    public static let keepAliveFrequency: Duration = .seconds(5)
    /// The ``statementTimeout`` when the URL gives none.
    public static let defaultStatementTimeout: Duration = .seconds(5)
    /// The environment variable that holds the password when neither the URL nor the variable
    /// the caller names does, as in libpq.
    public static let standardPasswordVariable = "PGPASSWORD"
    /// The URL parameters this type understands.
    static let parameterNames = ["sslmode", "sslrootcert", "statement_timeout", "connect_timeout", "application_name", "prepared_statements", "pool_size"]

    /// Parses `url`. When it has no password (or an empty one), the password is read from the
    /// environment variable `passwordEnvironmentVariable` (the demo uses `SESSIONKIT_STORE_PASSWORD`),
    /// then from `PGPASSWORD`; with neither, the connection has no password (fine for `trust`
    /// authentication). Throws ``/SessionKit/SessionStoreError`` when the URL is malformed or names an
    /// unknown parameter or value; the message never contains the password.
    public init(
        _ url: String,
        passwordEnvironmentVariable: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        var rest = Substring(url)
        guard let schemeEnd = rest.range(of: "://") else {
            throw Self.invalid("it must start with postgres:// or postgresql://")
        }
        let scheme = rest[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw Self.invalid("it must start with postgres:// or postgresql://")
        }
        rest = rest[schemeEnd.upperBound...]
        if rest.contains("#") {
            throw Self.invalid("it has a fragment ('#'); percent-encode a '#' in the password as %23")
        }

        // The authority ends at the first '/' or '?'; the user information at its last '@' (so an
        // '@' left unencoded in a password still parses).
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        guard let at = authority.lastIndex(of: "@") else {
            throw Self.invalid("it names no user (postgres://user@host/database)")
        }
        let userInformation = authority[..<at]
        let hostAndPort = authority[authority.index(after: at)...]

        let rawUser: Substring
        var rawPassword: Substring?
        if let colon = userInformation.firstIndex(of: ":") {
            rawUser = userInformation[..<colon]
            rawPassword = userInformation[userInformation.index(after: colon)...]
        } else {
            rawUser = userInformation
        }
        guard let username = Self.percentDecoded(rawUser), !username.isEmpty else {
            throw Self.invalid(rawUser.isEmpty ? "it names no user (postgres://user@host/database)" : "the user name has a malformed percent escape")
        }
        var password: String?
        if let rawPassword {
            guard let decoded = Self.percentDecoded(rawPassword) else {
                throw Self.invalid("the password has a malformed percent escape (write %25 for '%')")
            }
            password = decoded.isEmpty ? nil : decoded
        }
        if password == nil {
            let named = passwordEnvironmentVariable.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
            password = named ?? environment[Self.standardPasswordVariable].flatMap { $0.isEmpty ? nil : $0 }
        }

        // Host and port: `host`, `host:port`, `[ipv6]`, `[ipv6]:port`.
        let rawHost: Substring
        var rawPort: Substring?
        if hostAndPort.hasPrefix("[") {
            guard let close = hostAndPort.firstIndex(of: "]") else {
                throw Self.invalid("an IPv6 host has no closing ']'")
            }
            rawHost = hostAndPort[hostAndPort.index(after: hostAndPort.startIndex)..<close]
            let after = hostAndPort[hostAndPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Self.invalid("only ':port' may follow an IPv6 host") }
                rawPort = after.dropFirst()
            }
        } else if let colon = hostAndPort.firstIndex(of: ":") {
            rawHost = hostAndPort[..<colon]
            rawPort = hostAndPort[hostAndPort.index(after: colon)...]
        } else {
            rawHost = hostAndPort
        }
        if hostAndPort.contains(",") {
            throw Self.invalid("it names several hosts, which this store does not support")
        }
        guard let host = Self.percentDecoded(rawHost), !host.isEmpty else {
            throw Self.invalid(rawHost.isEmpty ? "it names no host (Unix sockets are not supported)" : "the host has a malformed percent escape")
        }
        var port = 5432
        if let rawPort {
            guard !rawPort.isEmpty, rawPort.count <= 5, rawPort.allSatisfy({ $0.isASCII && $0.isNumber }),
                let number = Int(rawPort), (1...65535).contains(number)
            else {
                throw Self.invalid("the port is not a number from 1 to 65535")
            }
            port = number
        }

        // The database: the path, without its '/'.
        var database: String?
        let queryStart = rest.firstIndex(of: "?") ?? rest.endIndex
        let path = rest[..<queryStart].drop { $0 == "/" }
        if !path.isEmpty {
            guard !path.contains("/") else { throw Self.invalid("the path holds more than a database name") }
            guard let decoded = Self.percentDecoded(path) else {
                throw Self.invalid("the database name has a malformed percent escape")
            }
            database = decoded
        }

        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.sslMode = .require
        self.sslRootCertificate = nil
        self.statementTimeout = Self.defaultStatementTimeout
        self.connectTimeout = nil
        self.applicationName = nil

        // The parameters.
        guard queryStart < rest.endIndex else { return }
        var seen: Set<String> = []
        for pair in rest[rest.index(after: queryStart)...].split(separator: "&", omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: "=") ?? pair.endIndex
            let name = String(pair[..<equals])
            guard Self.parameterNames.contains(name) else {
                // Not echoed: a password with an unencoded '?' would end up here.
                throw Self.invalid("it has an unsupported parameter (supported: \(Self.parameterNames.joined(separator: ", ")))")
            }
            guard seen.insert(name).inserted else { throw Self.invalid("the parameter \(name) appears twice") }
            guard equals < pair.endIndex, let value = Self.percentDecoded(pair[pair.index(after: equals)...]), !value.isEmpty else {
                throw Self.invalid("the parameter \(name) has no value or a malformed percent escape")
            }
            switch name {
            case "sslmode":
                guard let mode = SSLMode(parameter: value) else {
                    throw Self.invalid("sslmode must be one of \(SSLMode.allNames)")
                }
                sslMode = mode
            case "sslrootcert":
                sslRootCertificate = value
            case "statement_timeout":
                guard let timeout = Self.duration(value, defaultUnit: .milliseconds(1)) else {
                    throw Self.invalid("statement_timeout must be a whole number with an optional unit us, ms, s, min, h or d (at most 24 days), such as 5s")
                }
                statementTimeout = timeout
            case "connect_timeout":
                guard let timeout = Self.duration(value, defaultUnit: .seconds(1)), timeout > .zero else {
                    throw Self.invalid("connect_timeout must be a positive whole number of seconds, or one with a unit us, ms, s, min, h or d")
                }
                connectTimeout = timeout
            case "prepared_statements":
                switch value {
                case "on": usesPreparedStatements = true
                case "off": usesPreparedStatements = false
                default: throw Self.invalid("prepared_statements must be on or off")
                }
            case "pool_size":
                guard let size = Int(value), (1...1000).contains(size) else {
                    throw Self.invalid("pool_size must be a whole number from 1 to 1000")
                }
                poolSize = size
            default:  // application_name
                applicationName = value
            }
        }
        if (sslMode == .verifyFull || sslMode == .verifyCA) && sslRootCertificate == nil {
            throw Self.invalid("sslmode=\(sslMode) needs sslrootcert=<the CA's PEM file> (or sslrootcert=system) to verify the server's certificate against")
        }
    }

    // MARK: The client's configuration

    /// The `PostgresClient.Configuration` for this URL: host, port, user, password, database, the
    /// TLS of ``sslMode`` and the startup parameters. Reads the CA certificates of
    /// ``sslRootCertificate`` now, so that a missing or unreadable file fails here, with a clear
    /// ``/SessionKit/SessionStoreError``, instead of in every connection attempt of the pool.
    ///
    /// ```swift
    /// var url = try PostgresConnectionURL("postgres://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem")
    /// url.poolSize = 40        // the pool's minimum and maximum: set both, or lower the minimum first
    /// let client = PostgresClient(configuration: try url.makeClientConfiguration(), backgroundLogger: logger)
    /// ```
    public func makeClientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch try tlsConfiguration() {
        case .none: tls = .disable
        case .prefer(let configuration): tls = .prefer(configuration)
        case .require(let configuration): tls = .require(configuration)
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        configuration.options.additionalStartupParameters = startupParameters
        if let connectTimeout { configuration.options.connectTimeout = connectTimeout }
        Self.applyPool(size: poolSize, to: &configuration)
        return configuration
    }

    /// The pool every client SessionKit builds gets: `size` connections kept open (the minimum and
    /// the maximum), keep-alive every ``keepAliveFrequency`` (the type's documentation says why).
    static func applyPool(size: Int, to configuration: inout PostgresClient.Configuration) {
        configuration.options.minimumConnections = size
        configuration.options.maximumConnections = size
        configuration.options.keepAliveBehavior = .init(frequency: keepAliveFrequency)
    }

    /// What TLS a connection uses, with the `TLSConfiguration` that ``sslMode`` and ``sslRootCertificate`` ask for.
    enum TLSChoice {
        case none
        case prefer(TLSConfiguration)
        case require(TLSConfiguration)
    }

    func tlsConfiguration() throws -> TLSChoice {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if sslMode == .disable { return .none }
        if sslMode == .prefer {
            configuration.certificateVerification = .none
            return .prefer(configuration)
        }
        guard let sslRootCertificate else {
            // require without a root certificate: encrypted, not authenticated (libpq's require).
            configuration.certificateVerification = .none
            return .require(configuration)
        }
        configuration.certificateVerification = sslMode == .verifyFull ? .fullVerification : .noHostnameVerification
        if sslRootCertificate == "system" {
            configuration.trustRoots = .default
        } else {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(sslRootCertificate)
            } catch {
                throw SessionStoreError(.unavailable, "PostgreSQL URL: cannot read the CA certificates of sslrootcert (\(sslRootCertificate)): the file is missing, unreadable or not PEM")
            }
            guard !certificates.isEmpty else {
                throw SessionStoreError(.unavailable, "PostgreSQL URL: the sslrootcert file (\(sslRootCertificate)) holds no PEM certificate")
            }
            configuration.trustRoots = .certificates(certificates)
        }
        return .require(configuration)
    }

    /// The startup parameters: `statement_timeout` (in milliseconds) and `application_name`.
    var startupParameters: [(String, String)] {
        var parameters = [("statement_timeout", String(Self.milliseconds(statementTimeout)))]
        if let applicationName { parameters.append(("application_name", applicationName)) }
        return parameters
    }

    // MARK: Printing, without the password

    /// The URL with `********` for the password, and every parameter that applies.
    public var description: String {
        var text = "postgres://\(Self.percentEncoded(username))"
        if password != nil { text += ":********" }
        text += "@" + (host.contains(":") ? "[\(host)]" : Self.percentEncoded(host)) + ":\(port)"
        if let database { text += "/" + Self.percentEncoded(database) }
        text += "?sslmode=\(sslMode)"
        if let sslRootCertificate { text += "&sslrootcert=" + Self.percentEncoded(sslRootCertificate) }
        text += "&statement_timeout=\(Self.milliseconds(statementTimeout))ms"
        if let connectTimeout { text += "&connect_timeout=\(Self.milliseconds(connectTimeout))ms" }
        if let applicationName { text += "&application_name=" + Self.percentEncoded(applicationName) }
        if !usesPreparedStatements { text += "&prepared_statements=off" }
        if poolSize != Self.defaultPoolSize { text += "&pool_size=\(poolSize)" }
        return text
    }

    /// The same as ``description``: the password is never shown.
    public var debugDescription: String { "PostgresConnectionURL(\(description))" }

    /// What `dump` and debuggers show: every field, with the password as `********` (or `nil`).
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host, "port": port, "username": username,
                "password": password == nil ? "nil" : "********",
                "database": database as Any, "sslMode": sslMode, "sslRootCertificate": sslRootCertificate as Any,
                "statementTimeout": statementTimeout, "connectTimeout": connectTimeout as Any,
                "applicationName": applicationName as Any,
                "usesPreparedStatements": usesPreparedStatements, "poolSize": poolSize,
            ],
            displayStyle: .struct
        )
    }

    // MARK: Helpers

    static func invalid(_ reason: String) -> SessionStoreError {
        SessionStoreError(.unavailable, "invalid PostgreSQL URL: \(reason)")
    }

    /// `text` with its `%XX` escapes decoded, or `nil` when an escape is malformed or the bytes are not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `text` with everything but unreserved characters (and `/` in paths) percent-encoded.
    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                result.unicodeScalars.append("%")
                result.unicodeScalars.append(digits[Int(byte >> 4)])
                result.unicodeScalars.append(digits[Int(byte & 15)])
            }
        }
        return result
    }

    /// A PostgreSQL-style duration: a whole number and an optional unit (`us`, `ms`, `s`, `min`,
    /// `h`, `d`), `defaultUnit` without one; at most `Int32.max` milliseconds, PostgreSQL's limit.
    static func duration(_ text: String, defaultUnit: Duration) -> Duration? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unitText = text[digits.endIndex...].trimmingPrefix(" ")
        guard !digits.isEmpty, digits.count <= 12, let number = Int64(digits) else { return nil }
        let unit: Duration
        switch unitText {
        case "": unit = defaultUnit
        case "us": unit = .microseconds(1)
        case "ms": unit = .milliseconds(1)
        case "s": unit = .seconds(1)
        case "min": unit = .seconds(60)
        case "h": unit = .seconds(3600)
        case "d": unit = .seconds(86_400)
        default: return nil
        }
        let duration = unit * number
        guard duration <= .milliseconds(Int64(Int32.max)) else { return nil }
        return duration
    }

    /// `duration` in whole milliseconds, rounded up so that a positive duration never becomes 0 (no limit).
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        return seconds * 1000 + (attoseconds + perMillisecond - 1) / perMillisecond
    }
}
