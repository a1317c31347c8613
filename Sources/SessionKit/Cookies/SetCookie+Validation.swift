extension SetCookie {
    /// RFC 7230 tchar.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// RFC 6265 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
    static func isCookieOctet(_ b: UInt8) -> Bool {
        b == 0x21 || (0x23...0x2B).contains(b) || (0x2D...0x3A).contains(b) || (0x3C...0x5B).contains(b) || (0x5D...0x7E).contains(b)
    }

    /// RFC 6265 cookie-value: `*cookie-octet / ( DQUOTE *cookie-octet DQUOTE )`.
    static func isCookieValue(_ value: String) -> Bool {
        let bytes = value.utf8
        if bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") {
            return areCookieOctets(bytes.dropFirst().dropLast())
        }
        return areCookieOctets(bytes[...])
    }

    /// ``isCookieOctet(_:)`` for every byte, by a 256-entry table ORed together without a branch
    /// per byte (a session cookie's value is checked on every write: this runs at about two
    /// instructions a byte).
    static func areCookieOctets(_ bytes: Substring.UTF8View) -> Bool {
        if let result = bytes.withContiguousStorageIfAvailable({ buffer -> Bool in
            nonCookieOctets.withUnsafeBufferPointer { table in
                var outside: UInt8 = 0
                for byte in buffer { outside |= table[Int(byte)] }
                return outside == 0
            }
        }) {
            return result
        }
        return bytes.allSatisfy(isCookieOctet)
    }

    /// 1 for each byte value that is not a cookie octet, 0 for those that are.
    private static let nonCookieOctets: [UInt8] = (0..<256).map { isCookieOctet(UInt8($0)) ? 0 : 1 }

    static func validateName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else {
            throw CookieError(.invalidName, "cookie name '\(printable(name))' is not an RFC 7230 token")
        }
    }

    /// Checks a host name and returns it without a leading dot.
    static func validateDomain(_ domain: String, cookie: String) throws -> String {
        var host = Substring(domain)
        if host.first == "." { host = host.dropFirst() }
        func fail(_ why: String) -> CookieError {
            CookieError(.invalidDomain, "cookie '\(cookie)': Domain '\(printable(domain))' \(why)")
        }
        guard host.utf8.count <= 1024 else {
            throw CookieError(.tooLarge, "cookie '\(cookie)': Domain is longer than 1024 bytes")
        }
        guard !host.isEmpty else { throw fail("is empty") }
        guard host.utf8.count <= 253 else { throw fail("is longer than 253 bytes") }
        var labelLength = 0
        for b in host.utf8 {
            if b == UInt8(ascii: ".") {
                guard labelLength > 0 else { throw fail("has an empty label") }
                labelLength = 0
                continue
            }
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"):
                labelLength += 1
                guard labelLength <= 63 else { throw fail("has a label longer than 63 bytes") }
            case UInt8(ascii: ":"), UInt8(ascii: "/"):
                throw fail("is not a host name (no scheme, port or path)")
            case 0x80...:
                throw fail("is not ASCII (write an internationalized domain as punycode, xn--...)")
            default:
                throw fail("contains a character not allowed in a host name")
            }
        }
        guard labelLength > 0 else { throw fail("has an empty label") }
        return String(host)
    }

    static func validatePath(_ path: String, cookie: String) throws {
        guard path.utf8.count <= 1024 else {
            throw CookieError(.tooLarge, "cookie '\(cookie)': Path is longer than 1024 bytes")
        }
        guard path.utf8.first == UInt8(ascii: "/") else {
            throw CookieError(.invalidPath, "cookie '\(cookie)': Path must start with '/' (browsers ignore any other)")
        }
        guard path.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ";") }) else {
            throw CookieError(.invalidPath, "cookie '\(cookie)': Path '\(printable(path))' contains ';', a control character or non-ASCII (percent-encode it)")
        }
        guard path.utf8.last != 0x20 else {
            throw CookieError(.invalidPath, "cookie '\(cookie)': Path ends with a space, which browsers strip (percent-encode it)")
        }
    }

    static func validateExtension(_ attribute: String, cookie: String) throws {
        guard attribute.utf8.count <= 1024 else {
            throw CookieError(.tooLarge, "cookie '\(cookie)': an extension attribute is longer than 1024 bytes")
        }
        guard !attribute.isEmpty, attribute.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ";") }) else {
            throw CookieError(.invalidExtension, "cookie '\(cookie)': extension attribute '\(printable(attribute))' is empty or contains ';', a control character or non-ASCII")
        }
        guard attribute.utf8.first != 0x20, attribute.utf8.last != 0x20 else {
            throw CookieError(.invalidExtension, "cookie '\(cookie)': extension attribute '\(printable(attribute))' starts or ends with a space, which parsers strip")
        }
    }

    /// The prefix, SameSite=None and Partitioned rules.
    static func validateRules(name: String, domain: String?, path: String?, secure: Bool, sameSite: SameSite?, partitioned: Bool) throws {
        if hasPrefix(name, "__secure-"), !secure {
            throw CookieError(.prefixViolation, "cookie '\(name)': the __Secure- prefix requires Secure")
        }
        if hasPrefix(name, "__host-"), !secure || path != "/" || domain != nil {
            throw CookieError(.prefixViolation, "cookie '\(name)': the __Host- prefix requires Secure, Path=/ and no Domain")
        }
        if sameSite == SameSite.none, !secure {
            throw CookieError(.sameSiteNoneRequiresSecure, "cookie '\(name)': SameSite=None requires Secure, browsers reject it otherwise")
        }
        if partitioned, !secure {
            throw CookieError(.partitionedRequiresSecure, "cookie '\(name)': Partitioned requires Secure, browsers reject it otherwise")
        }
    }

    /// ASCII case-insensitive prefix test; `prefix` is lowercase.
    static func hasPrefix(_ string: some StringProtocol, _ prefix: StaticString) -> Bool {
        let p = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        var iterator = string.utf8.makeIterator()
        for expected in p {
            guard let b = iterator.next() else { return false }
            let lower = (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
            if lower != expected { return false }
        }
        return true
    }

    /// For error messages: control characters escaped, at most 64 characters.
    static func printable(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars.prefix(64) {
            out += scalar.value < 0x20 || scalar.value == 0x7F ? scalar.escaped(asASCII: true) : String(scalar)
        }
        return s.unicodeScalars.count > 64 ? out + "..." : out
    }
}
