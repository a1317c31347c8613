extension SetCookie {
    /// The `Set-Cookie` header value, attributes in Werkzeug's order:
    /// `name=value; Domain=...; Expires=...; Max-Age=...; Secure; HttpOnly; Path=...; SameSite=...;
    /// Partitioned`, then `Priority=...`, then the extensions.
    public var headerValue: String {
        let value = writtenValue
        let expires = self.expires.map(CookieDate.format)
        let maxAge = self.maxAge.map { String($0) }
        // Every piece in order; called twice: once to count the bytes, once to write them into
        // the string's own storage (appending piece by piece cost a capacity check and a
        // uniqueness check per piece: most of the serialization).
        func pieces(_ visit: (String) -> Void) {
            visit(name)
            visit("=")
            visit(value)
            if let domain {
                visit("; Domain=")
                visit(domain)
            } else if emptyDomain {
                visit("; Domain=")
            }
            if let expires {
                visit("; Expires=")
                visit(expires)
            }
            if let maxAge {
                visit("; Max-Age=")
                visit(maxAge)
            }
            if secure { visit("; Secure") }
            if httpOnly { visit("; HttpOnly") }
            if let path {
                visit("; Path=")
                visit(path)
            }
            if let sameSite {
                visit("; SameSite=")
                visit(sameSite.rawValue)
            }
            if partitioned { visit("; Partitioned") }
            if let priority {
                visit("; Priority=")
                visit(priority.rawValue)
            }
            for attribute in extensions {
                visit("; ")
                visit(attribute)
            }
        }
        var count = 0
        pieces { count += $0.utf8.count }
        return String(unsafeUninitializedCapacity: count) { buffer in
            var offset = 0
            pieces { piece in
                let copied = piece.utf8.withContiguousStorageIfAvailable { utf8 in
                    UnsafeMutableBufferPointer(rebasing: buffer[offset...]).initialize(fromContentsOf: utf8)
                }
                if let copied {
                    offset += copied
                } else {
                    for byte in piece.utf8 {
                        buffer[offset] = byte
                        offset += 1
                    }
                }
            }
            return offset
        }
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
