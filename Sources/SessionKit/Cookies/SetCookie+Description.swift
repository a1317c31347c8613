extension SetCookie: CustomStringConvertible, CustomDebugStringConvertible {
    /// The header with the value redacted (a cookie value is often a credential), for logs:
    /// `Set-Cookie: session=<redacted 43 bytes>; Secure; HttpOnly; Path=/`.
    public var description: String {
        let redacted = SetCookie(
            unchecked: name, value: "<redacted \(writtenValue.utf8.count) bytes>", expires: expires, maxAge: maxAge,
            domain: domain, path: path, secure: secure, httpOnly: httpOnly, sameSite: sameSite, partitioned: partitioned,
            priority: priority, extensions: extensions, valueEncoding: .strict, emptyDomain: emptyDomain
        )
        return "Set-Cookie: " + redacted.headerValue
    }

    public var debugDescription: String { description }
}

extension RequestCookies: CustomStringConvertible, CustomDebugStringConvertible {
    /// The cookie names only (values are often credentials): `Cookie: session, theme (2 pairs)`.
    public var description: String {
        "Cookie: " + map(\.name).joined(separator: ", ") + " (\(count) pairs)"
    }

    public var debugDescription: String { description }
}

extension CookieJar.Cookie: CustomStringConvertible, CustomDebugStringConvertible {
    /// The cookie with its value redacted: `id=<redacted 3 bytes> (example.com, /, host-only, Secure)`.
    public var description: String {
        var flags = [domain, path]
        if hostOnly { flags.append("host-only") }
        if secure { flags.append("Secure") }
        if httpOnly { flags.append("HttpOnly") }
        if let expiry { flags.append("expires \(CookieDate.format(expiry))") }
        return "\(name)=<redacted \(value.utf8.count) bytes> (\(flags.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }
}
