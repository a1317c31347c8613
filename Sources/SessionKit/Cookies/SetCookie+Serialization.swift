extension SetCookie {
    /// The `Set-Cookie` header value, attributes in Werkzeug's order:
    /// `name=value; Domain=...; Expires=...; Max-Age=...; Secure; HttpOnly; Path=...; SameSite=...;
    /// Partitioned`, then `Priority=...`, then the extensions.
    public var headerValue: String {
        var out = ""
        out.reserveCapacity(name.utf8.count + value.utf8.count + 96)
        out += name
        out += "="
        out += writtenValue
        if let domain {
            out += "; Domain="
            out += domain
        } else if emptyDomain {
            out += "; Domain="
        }
        if let expires {
            out += "; Expires="
            out += CookieDate.format(expires)
        }
        if let maxAge {
            out += "; Max-Age="
            out += String(maxAge)
        }
        if secure { out += "; Secure" }
        if httpOnly { out += "; HttpOnly" }
        if let path {
            out += "; Path="
            out += path
        }
        if let sameSite {
            out += "; SameSite="
            out += sameSite.rawValue
        }
        if partitioned { out += "; Partitioned" }
        if let priority {
            out += "; Priority="
            out += priority.rawValue
        }
        for attribute in extensions {
            out += "; "
            out += attribute
        }
        return out
    }

    /// The value as written in the header.
    public var writtenValue: String {
        switch valueEncoding.base {
        case .strict: return value
        case .werkzeug: return Self.werkzeugQuote(value)
        }
    }

    /// Werkzeug 3.1's value quoting (werkzeug/http.py, `_cookie_no_quote_re`, `_cookie_slash_re`).
    static func werkzeugQuote(_ value: String) -> String {
        if value.utf8.allSatisfy(isWerkzeugNoQuote) { return value }
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(value.utf8.count + 8)
        for b in value.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(b)
            case 0x00...0x19, UInt8(ascii: ","), UInt8(ascii: ";"), 0x7F...0xFF:
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "0") + (b >> 6))
                out.append(UInt8(ascii: "0") + (b >> 3 & 7))
                out.append(UInt8(ascii: "0") + (b & 7))
            default: // includes space and 0x1A-0x1F, which Werkzeug's regex leaves raw
                out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    /// `[\w!#$%&'()*+\-./:<=>?@\[\]^`{|}~]` with re.ASCII.
    static func isWerkzeugNoQuote(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            return true
        default:
            return "!#$%&'()*+-./:<=>?@[]^`{|}~".utf8.contains(b)
        }
    }
}
