import Foundation

extension SetCookie {
    /// A cookie exactly as Werkzeug 3.1's `dump_cookie` (Flask's `response.set_cookie`) writes it, so
    /// that the header is byte-identical to a Flask app's:
    /// - the value is quoted as Werkzeug does (any string allowed);
    /// - the path is percent-quoted (`quote(path, safe="%!$&'()*+,/:=@")`), `""` writes `Path=`;
    /// - the domain loses any `:port` and leading dots, non-ASCII labels become punycode (IDNA 2003;
    ///   nameprep is approximated by Unicode case folding plus NFKC), `""` writes `Domain=`;
    /// - with `maxAge` and no `expires`, Expires = `now` + maxAge (`syncExpires`, Werkzeug's default);
    /// - `sameSite` goes through Python's `.title()` and must then be Strict, Lax or None;
    /// - Partitioned forces Secure.
    ///
    /// ```swift
    /// let cookie = try SetCookie.werkzeug(name: "user", value: "a b", maxAge: 60, now: Date(timeIntervalSince1970: 0))
    /// cookie.headerValue // #"user="a b"; Expires=Thu, 01 Jan 1970 00:01:00 GMT; Max-Age=60; Path=/"#
    /// ```
    ///
    /// Where Werkzeug emits a broken header, this refuses instead (documented deviations): a name that
    /// is empty or contains `;`, `=` or a control character (`.invalidName`), a domain that would carry
    /// `;`, `,`, whitespace or a control character into the header (`.invalidDomain`), an empty or over-long
    /// domain label (`.invalidDomain`, Python's `UnicodeError`). Werkzeug's verbatim `str` Expires is not
    /// offered: `expires` is a `Date`. The prefix, SameSite=None and size rules of `init` are not applied
    /// (Werkzeug applies none of them; it only warns about size).
    public static func werkzeug(
        name: String,
        value: String = "",
        maxAge: Int? = nil,
        expires: Date? = nil,
        path: String? = "/",
        domain: String? = nil,
        secure: Bool = false,
        httpOnly: Bool = false,
        sameSite: String? = nil,
        partitioned: Bool = false,
        syncExpires: Bool = true,
        now: Date = Date()
    ) throws -> SetCookie {
        guard !name.isEmpty, !name.unicodeScalars.contains(where: { $0 == ";" || $0 == "=" || $0.value < 0x20 || $0.value == 0x7F }) else {
            throw CookieError(.invalidName, "cookie name '\(printable(name))' is empty or contains ';', '=' or a control character")
        }
        let quotedPath = path.map(werkzeugQuotePath)
        var normalizedDomain: String? = nil
        var emptyDomain = false
        if let domain {
            if domain.isEmpty {
                emptyDomain = true
            } else {
                normalizedDomain = try werkzeugDomain(domain, cookie: name)
                if normalizedDomain!.isEmpty { emptyDomain = true; normalizedDomain = nil }
            }
        }
        var expiresDate: Date? = nil
        if let expires {
            expiresDate = Date(timeIntervalSince1970: pythonTimestampSeconds(expires.timeIntervalSince1970))
        } else if let maxAge, syncExpires {
            expiresDate = Date(timeIntervalSince1970: pythonTimestampSeconds(now.timeIntervalSince1970 + Double(maxAge)))
        }
        if let expiresDate {
            let t = expiresDate.timeIntervalSince1970
            guard t.isFinite, t >= Double(CookieDate.supportedSeconds.lowerBound), t <= Double(CookieDate.supportedSeconds.upperBound) else {
                throw CookieError(.invalidExpires, "cookie '\(printable(name))': Expires must be a date in years 1-9999")
            }
        }
        var site: SameSite? = nil
        if let sameSite {
            guard let parsed = SameSite(rawValue: pythonTitle(sameSite)) else {
                throw CookieError(.invalidSameSite, "SameSite must be 'Strict', 'Lax', or 'None'.")
            }
            site = parsed
        }
        return SetCookie(
            unchecked: name, value: value, expires: expiresDate, maxAge: maxAge, domain: normalizedDomain, path: quotedPath,
            secure: secure || partitioned, httpOnly: httpOnly, sameSite: site, partitioned: partitioned, priority: nil,
            extensions: [], valueEncoding: .werkzeug, emptyDomain: emptyDomain
        )
    }

    /// Python's `datetime.fromtimestamp` rounds to microseconds (half even); `http_date` drops them.
    static func pythonTimestampSeconds(_ t: Double) -> Double {
        guard t.isFinite else { return t }
        return ((t * 1_000_000).rounded(.toNearestOrEven) / 1_000_000).rounded(.down)
    }

    /// `urllib.parse.quote(path, safe="%!$&'()*+,/:=@")` on the UTF-8 bytes, uppercase hex.
    static func werkzeugQuotePath(_ path: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(path.utf8.count)
        for b in path.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.append(b)
            case _ where "_.-~%!$&'()*+,/:=@".utf8.contains(b):
                out.append(b)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `domain.partition(":")[0].lstrip(".").encode("idna").decode("ascii")`.
    static func werkzeugDomain(_ domain: String, cookie: String) throws -> String {
        var host = domain.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        while host.first == "." { host.removeFirst() }
        func fail(_ why: String) -> CookieError {
            CookieError(.invalidDomain, "cookie '\(printable(cookie))': Domain '\(printable(domain))' \(why)")
        }
        guard !host.unicodeScalars.contains(where: { $0 == ";" || $0 == "," || $0.value <= 0x20 || $0.value == 0x7F || $0.properties.isWhitespace }) else {
            throw fail("contains ';', ',', whitespace or a control character")
        }
        if host.isEmpty { return "" }
        // Python's idna codec: labels split on . and its full-width forms; a trailing empty label is a trailing dot.
        let dots: Set<Unicode.Scalar> = [".", "\u{3002}", "\u{FF0E}", "\u{FF61}"]
        var labels: [String] = []
        var current = ""
        for scalar in host.unicodeScalars {
            if dots.contains(scalar) { labels.append(current); current = "" } else { current.unicodeScalars.append(scalar) }
        }
        labels.append(current)
        if host.unicodeScalars.allSatisfy(\.isASCII) {
            for label in labels.dropLast() where label.isEmpty || label.utf8.count >= 64 {
                throw fail("has an empty or too long label")
            }
            guard labels.last!.utf8.count < 64 else { throw fail("has a too long label") }
            return host
        }
        var trailingDot = false
        if labels.last!.isEmpty { labels.removeLast(); trailingDot = true }
        var encoded: [String] = []
        for label in labels {
            var ascii = label
            if !label.unicodeScalars.allSatisfy(\.isASCII) {
                let prepared = label.folding(options: [.caseInsensitive], locale: nil).precomposedStringWithCompatibilityMapping
                if prepared.unicodeScalars.allSatisfy(\.isASCII) {
                    ascii = prepared
                } else {
                    guard !hasPrefix(prepared, "xn--"), let puny = Punycode.encode(prepared) else {
                        throw fail("cannot be encoded as IDNA")
                    }
                    ascii = "xn--" + puny
                }
            }
            guard !ascii.isEmpty, ascii.utf8.count < 64 else { throw fail("has an empty or too long label") }
            encoded.append(ascii)
        }
        return encoded.joined(separator: ".") + (trailingDot ? "." : "")
    }

    /// Python's `str.title()` for the short ASCII words SameSite takes: the first letter of each run of
    /// letters upper-cased, the rest lower-cased.
    static func pythonTitle(_ s: String) -> String {
        var out = ""
        var previousIsCased = false
        for character in s {
            let isLetter = character.isLetter
            if isLetter {
                out += previousIsCased ? character.lowercased() : character.uppercased()
            } else {
                out.append(character)
            }
            previousIsCased = isLetter && (character.isUppercase || character.isLowercase)
        }
        return out
    }
}
