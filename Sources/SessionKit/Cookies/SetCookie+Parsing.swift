import Foundation

extension SetCookie {
    /// Parses a `Set-Cookie` header value leniently, as a browser does (RFC 6265bis section 5.6).
    ///
    /// ```swift
    /// let cookie = SetCookie(parsing: "id=abc; path=/; SECURE; samesite=lax; Max-Age=60; Foo=bar")
    /// cookie?.sameSite    // .lax
    /// cookie?.extensions  // ["Foo=bar"]
    /// ```
    ///
    /// - Attribute names and the SameSite and Priority values are case-insensitive; for a repeated
    ///   attribute the last one wins.
    /// - Expires is read with `CookieDate.parse`; Max-Age must be digits with an optional leading `-`
    ///   (zero or negative means "expire now"); an attribute whose value does not parse is ignored.
    /// - Domain loses a leading dot and is lower-cased; an empty Domain is ignored; a Path that is
    ///   empty or does not start with `/` is ignored (`path` is nil: a jar uses the default path).
    /// - Attributes whose value exceeds 1024 bytes are ignored; unknown attributes are kept, trimmed,
    ///   in `extensions`.
    /// - The value is kept as sent, quotes included (`valueEncoding` is `.strict`).
    ///
    /// Returns nil, as a browser ignores the header, when it contains a control character other than
    /// tab, when name plus value exceed 4096 bytes, or when both are empty. A header without `=` in
    /// its first pair is a cookie with an empty name.
    public init?(parsing headerValue: String) {
        let bytes = Array(headerValue.utf8)
        guard !bytes.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else { return nil }
        var pairEnd = 0
        while pairEnd < bytes.count, bytes[pairEnd] != UInt8(ascii: ";") { pairEnd += 1 }
        var name = ""
        var value = ""
        if let equals = bytes[0..<pairEnd].firstIndex(of: UInt8(ascii: "=")) {
            name = Self.trimmedString(bytes, 0, equals)
            value = Self.trimmedString(bytes, equals + 1, pairEnd)
        } else {
            value = Self.trimmedString(bytes, 0, pairEnd)
        }
        guard !(name.isEmpty && value.isEmpty), name.utf8.count + value.utf8.count <= 4096 else { return nil }

        var expires: Date?
        var maxAge: Int?
        var domain: String?
        var path: String?
        var secure = false
        var httpOnly = false
        var sameSite: SameSite?
        var partitioned = false
        var priority: Priority?
        var extensions: [String] = []
        var start = pairEnd + 1
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: ";") { end += 1 }
            defer { start = end + 1 }
            var attributeEnd = end
            var valueStart = end
            if let equals = bytes[start..<end].firstIndex(of: UInt8(ascii: "=")) {
                attributeEnd = equals
                valueStart = equals + 1
            }
            var (nameStart, nameEnd) = (start, attributeEnd)
            Self.trimWSP(bytes, &nameStart, &nameEnd)
            var (vStart, vEnd) = (valueStart, end)
            Self.trimWSP(bytes, &vStart, &vEnd)
            if nameStart == nameEnd && vStart == vEnd && valueStart == end { continue } // empty attribute
            guard vEnd - vStart <= 1024 else { continue }
            let attributeValue = String(decoding: bytes[vStart..<vEnd], as: UTF8.self)
            switch Self.lowercasedASCII(bytes[nameStart..<nameEnd]) {
            case "expires":
                if let date = CookieDate.parse(attributeValue) { expires = date }
            case "max-age":
                if let seconds = Self.parseMaxAge(bytes[vStart..<vEnd]) { maxAge = seconds }
            case "domain":
                guard !attributeValue.isEmpty else { continue }
                var d = Substring(attributeValue)
                if d.first == "." { d = d.dropFirst() }
                domain = String(d).lowercased()
            case "path":
                if attributeValue.utf8.first == UInt8(ascii: "/") { path = attributeValue } else { path = nil }
            case "secure":
                secure = true
            case "httponly":
                httpOnly = true
            case "samesite":
                switch attributeValue.lowercased() {
                case "strict": sameSite = .strict
                case "lax": sameSite = .lax
                case "none": sameSite = SameSite.none
                default: sameSite = nil
                }
            case "partitioned":
                partitioned = true
            case "priority":
                switch attributeValue.lowercased() {
                case "low": priority = .low
                case "medium": priority = .medium
                case "high": priority = .high
                default: break
                }
            default:
                var (s, e) = (start, end)
                Self.trimWSP(bytes, &s, &e)
                extensions.append(String(decoding: bytes[s..<e], as: UTF8.self))
            }
        }
        self.init(
            unchecked: name, value: value, expires: expires, maxAge: maxAge, domain: domain, path: path,
            secure: secure, httpOnly: httpOnly, sameSite: sameSite, partitioned: partitioned, priority: priority,
            extensions: extensions, valueEncoding: .strict
        )
    }

    /// RFC 6265bis 5.6.2: `-?DIGIT+`, saturating.
    static func parseMaxAge(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard let first = bytes.first else { return nil }
        var digits = bytes[...]
        var negative = false
        if first == UInt8(ascii: "-") {
            negative = true
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var n = 0
        for d in digits {
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(d - 0x30))
            if o1 || o2 { n = Int.max; break }
            n = a
        }
        return negative ? -n : n
    }

    static func trimWSP(_ bytes: [UInt8], _ start: inout Int, _ end: inout Int) {
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
    }

    static func trimmedString(_ bytes: [UInt8], _ start: Int, _ end: Int) -> String {
        var (s, e) = (start, end)
        trimWSP(bytes, &s, &e)
        return String(decoding: bytes[s..<e], as: UTF8.self)
    }

    static func lowercasedASCII(_ bytes: ArraySlice<UInt8>) -> String {
        guard bytes.count <= 16 else { return "" } // no known attribute name is longer
        return String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
