import Foundation

extension CookieJar {
    /// Scheme, lower-case host and percent-encoded path of a URL.
    static func origin(of url: URL) -> (scheme: String, host: String, path: String)? {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: true),
              let scheme = components.scheme, var host = components.host, !host.isEmpty
        else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (scheme.lowercased(), host, components.percentEncodedPath)
    }

    static func canonicalHost(_ host: String) -> String {
        var h = host.lowercased()
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        return h
    }

    /// https and wss, plus the loopback hosts browsers treat as secure contexts.
    static func isSecure(scheme: String, host: String) -> Bool {
        let scheme = scheme.lowercased()
        if scheme == "https" || scheme == "wss" { return true }
        return host == "localhost" || host.hasSuffix(".localhost") || host == "127.0.0.1" || host == "::1"
    }

    /// RFC 6265bis 5.1.3: identical, or `domain` is a suffix of `host` preceded by a dot and `host` is
    /// a host name, not an IP address. Both are lower-case.
    static func domainMatches(_ host: String, _ domain: String) -> Bool {
        if host == domain { return true }
        guard host.utf8.count > domain.utf8.count, host.hasSuffix(domain), !isIPAddress(host) else { return false }
        let dot = host.utf8[host.utf8.index(host.utf8.endIndex, offsetBy: -domain.utf8.count - 1)]
        return dot == UInt8(ascii: ".")
    }

    static func isIPAddress(_ host: String) -> Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// RFC 6265bis 5.1.4 default-path of a request URI path.
    static func defaultPath(_ uriPath: String) -> String {
        guard uriPath.first == "/", let lastSlash = uriPath.lastIndex(of: "/"), lastSlash != uriPath.startIndex else { return "/" }
        return String(uriPath[..<lastSlash])
    }

    /// RFC 6265bis 5.1.4 path-match.
    static func pathMatches(_ requestPath: String, _ cookiePath: String) -> Bool {
        if requestPath == cookiePath { return true }
        guard requestPath.hasPrefix(cookiePath) else { return false }
        if cookiePath.hasSuffix("/") { return true }
        return requestPath.utf8[requestPath.utf8.index(requestPath.utf8.startIndex, offsetBy: cookiePath.utf8.count)] == UInt8(ascii: "/")
    }
}
