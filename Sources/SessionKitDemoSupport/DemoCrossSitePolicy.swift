/// The demo's cross-site request forgery rule, without a web framework: which requests that would
/// change state are refused (see `DemoCrossSiteGuard` for Hummingbird and `VaporDemoCrossSiteGuard`
/// for Vapor, which apply it before the session is loaded).
///
/// - `Sec-Fetch-Site` (sent by every current browser): only `same-origin` (the demo's own pages) and
///   `none` (the user typed the address or opened a bookmark) pass; `same-site` and `cross-site` are
///   refused.
/// - `Origin`: when present it must name the origin the request was sent to (its `Host`); `null`
///   (a sandboxed frame, a redirect across origins) is refused. A reverse proxy in front of the demo
///   must pass the `Host` header on (nginx: `proxy_set_header Host $http_host;`).
/// - A request with neither header (curl, Python requests, another server) is no browser acting for
///   a third site, and passes.
///
/// ```swift
/// DemoCrossSitePolicy.refusal(secFetchSite: ["cross-site"], origins: [], host: "127.0.0.1:8080")   // a reason
/// DemoCrossSitePolicy.refusal(secFetchSite: [], origins: ["http://127.0.0.1:8080"], host: "127.0.0.1:8080")  // nil
/// ```
package enum DemoCrossSitePolicy {
    /// Why a request with these `Sec-Fetch-Site` and `Origin` values, sent to `host` (its `Host` or
    /// `:authority`), is refused, or nil when it may go on.
    package static func refusal(secFetchSite: [String], origins: [String], host: String?) -> String? {
        for value in secFetchSite {
            let site = value.trimmingASCIISpaces.lowercased()
            guard site == "same-origin" || site == "none" else {
                return "the browser says this request came from another site (Sec-Fetch-Site: \(site == "same-site" ? "same-site" : "cross-site"))"
            }
        }
        if !origins.isEmpty {
            guard let host else {
                return "the request names an Origin but no Host to compare it with"
            }
            for origin in origins where !isSameOrigin(origin, host: host) {
                return "the Origin header names another origin than this server's"
            }
        }
        return nil
    }

    /// The plain-text body of the 403 answered for `reason`.
    package static func forbiddenBody(_ reason: String) -> String {
        "403 Forbidden: \(reason). A request that changes your session is accepted only from the demo's own pages, so a link or form on another site cannot act as you.\n"
    }

    /// Whether the serialized origin `origin` (`http://127.0.0.1:8080`) is the server that `host`
    /// (the request's `Host`, `127.0.0.1:8080`) names; the default port of the origin's scheme
    /// stands for a missing one on either side.
    package static func isSameOrigin(_ origin: String, host: String) -> Bool {
        let origin = origin.trimmingASCIISpaces.lowercased()
        let authority: String
        let defaultPort: Int
        if origin.hasPrefix("http://") {
            authority = String(origin.dropFirst("http://".count))
            defaultPort = 80
        } else if origin.hasPrefix("https://") {
            authority = String(origin.dropFirst("https://".count))
            defaultPort = 443
        } else {
            return false   // "null", or no web origin
        }
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@"),
              let theirs = hostAndPort(authority, defaultPort: defaultPort),
              let ours = hostAndPort(host.trimmingASCIISpaces.lowercased(), defaultPort: defaultPort)
        else { return false }
        return theirs.host == ours.host && theirs.port == ours.port
    }

    /// `example.com:8080`, `example.com`, `[::1]:8080` split into host and port.
    static func hostAndPort(_ authority: String, defaultPort: Int) -> (host: String, port: Int)? {
        var host = Substring(authority)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            if rest.hasPrefix(":") { portText = rest.dropFirst() } else if !rest.isEmpty { return nil }
            host = host[...close]
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { return nil }
        guard let portText else { return (String(host), defaultPort) }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCIIDigit), let port = Int(portText), port <= 65535 else {
            return nil
        }
        return (String(host), port)
    }
}

extension StringProtocol {
    fileprivate var trimmingASCIISpaces: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
