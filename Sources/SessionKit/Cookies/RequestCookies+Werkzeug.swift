/// Werkzeug 3.1's `parse_cookie` (werkzeug/sansio/http.py), reproduced on UTF-8 bytes.
///
/// The regex `([^=;]*)(?:\s*=\s*("(?:[^\\"]|\\.)*"|.*?))?\s*;\s*` (re.ASCII), applied with `findall`
/// to the header plus a final `;`, is equivalent to this scan:
/// - the name runs to the first `=` or `;`;
/// - after `=` and ASCII whitespace, a quoted string that closes (at the first unescaped `"`, where
///   `\` escapes any character but a newline) and is followed by whitespace and `;` is the value,
///   raw `;` included; otherwise the value runs to the next `;`, minus trailing whitespace, and must
///   not contain a newline (`.` does not match `\n`). If it does, the regex fails at every start
///   position up to the `=` and scanning resumes after the `=`.
/// Then names and values are `strip()`ped (Unicode whitespace, as Python), empty names are skipped,
/// and a value of 2+ characters that starts and ends with `"` is unslashed.
extension RequestCookies {
    static func parseWerkzeug(_ bytes: UnsafeBufferPointer<UInt8>, limits: CookieLimits, into spans: inout [Span]) {
        let limit = Swift.min(bytes.count, limits.maxHeaderBytes)
        let truncated = bytes.count > limit
        // The header plus the `;` Werkzeug appends, which sits at index `limit`.
        @inline(__always) func byte(_ i: Int) -> UInt8 { i < limit ? bytes[i] : UInt8(ascii: ";") }
        @inline(__always) func skipSpace(_ i: inout Int) { while i < limit, isASCIISpace(bytes[i]) { i += 1 } }

        // The next `;` and the next newline at or after a position only move forward as the scan does;
        // caching them keeps the regex's rescans (after a failed match) linear overall.
        var semicolon = -1
        var spaceBeforeSemicolon = -1 // where the whitespace run that ends at `semicolon` starts
        var newline = -1
        func nextSemicolon(from i: Int) -> (semicolon: Int, spaceStart: Int) {
            if semicolon < i {
                semicolon = i
                while semicolon < limit, bytes[semicolon] != UInt8(ascii: ";") { semicolon += 1 }
                spaceBeforeSemicolon = semicolon
                while spaceBeforeSemicolon > i, isASCIISpace(bytes[spaceBeforeSemicolon - 1]) { spaceBeforeSemicolon -= 1 }
            }
            return (semicolon, spaceBeforeSemicolon)
        }
        func nextNewline(from i: Int) -> Int {
            if newline < i {
                newline = i
                while newline < limit, bytes[newline] != 0x0A { newline += 1 }
            }
            return newline
        }

        var p = 0
        while p < limit, spans.count < limits.maxPairs {
            var n1 = p
            while n1 < limit, bytes[n1] != UInt8(ascii: "="), bytes[n1] != UInt8(ascii: ";") { n1 += 1 }
            var valueStart = n1
            var valueEnd = n1
            var terminator: Int // the `;` that ends the match
            if byte(n1) == UInt8(ascii: ";") {
                terminator = n1
            } else {
                var w = n1 + 1
                skipSpace(&w)
                var matched: Int? = nil
                if byte(w) == UInt8(ascii: "\"") {
                    // alternative 1: "(?:[^\\"]|\\.)*" then \s*;
                    var k = w + 1
                    var close: Int? = nil
                    while k <= limit {
                        let b = byte(k)
                        if b == UInt8(ascii: "\"") { close = k; break }
                        if b == UInt8(ascii: "\\") {
                            guard k + 1 <= limit, byte(k + 1) != 0x0A else { break }
                            k += 2
                        } else {
                            k += 1
                        }
                    }
                    if let close {
                        var r = close + 1
                        skipSpace(&r)
                        if byte(r) == UInt8(ascii: ";") {
                            valueStart = w
                            valueEnd = close + 1
                            matched = r
                        }
                    }
                }
                if matched == nil {
                    // alternative 2: .*? then \s*;
                    let (j, spaceStart) = nextSemicolon(from: w)
                    let e = Swift.max(w, spaceStart)
                    if nextNewline(from: w) >= e {
                        valueStart = w
                        valueEnd = e
                        matched = j
                    }
                }
                guard let matched else {
                    p = n1 + 1 // no match can start anywhere up to the `=`
                    continue
                }
                terminator = matched
            }
            if terminator >= limit, truncated, bytes[limit] != UInt8(ascii: ";") { break } // cut by the byte limit: dropped whole
            var nameStart = p
            var nameEnd = n1
            pythonStrip(bytes, &nameStart, &nameEnd)
            if nameStart < nameEnd {
                pythonStrip(bytes, &valueStart, &valueEnd)
                var unslash = false
                if valueEnd - valueStart >= 2, bytes[valueStart] == UInt8(ascii: "\""), bytes[valueEnd - 1] == UInt8(ascii: "\"") {
                    valueStart += 1
                    valueEnd -= 1
                    unslash = true
                }
                spans.append(Span(nameStart: nameStart, nameEnd: nameEnd, valueStart: valueStart, valueEnd: valueEnd, unslash: unslash))
            }
            p = terminator + 1
            skipSpace(&p)
        }
    }

    /// Python's `re.ASCII` `\s`: `[ \t\n\r\f\v]`.
    @inline(__always) static func isASCIISpace(_ b: UInt8) -> Bool {
        b == 0x20 || (b >= 0x09 && b <= 0x0D)
    }

    /// Python's `str.isspace()`.
    static func isPythonSpace(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python's `str.strip()` on a UTF-8 byte range of valid UTF-8.
    static func pythonStrip(_ bytes: UnsafeBufferPointer<UInt8>, _ start: inout Int, _ end: inout Int) {
        while start < end {
            let (scalar, length) = decodeScalar(bytes, at: start, end: end)
            guard isPythonSpace(scalar) else { break }
            start += length
        }
        while end > start {
            var lead = end - 1
            while lead > start, bytes[lead] & 0xC0 == 0x80 { lead -= 1 }
            let (scalar, _) = decodeScalar(bytes, at: lead, end: end)
            guard isPythonSpace(scalar) else { break }
            end = lead
        }
    }

    private static func decodeScalar(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int, end: Int) -> (UInt32, Int) {
        let b0 = UInt32(bytes[i])
        func cont(_ k: Int) -> UInt32 { i + k < end ? UInt32(bytes[i + k] & 0x3F) : 0 }
        switch b0 {
        case 0..<0x80: return (b0, 1)
        case 0xC0..<0xE0: return ((b0 & 0x1F) << 6 | cont(1), Swift.min(2, end - i))
        case 0xE0..<0xF0: return ((b0 & 0x0F) << 12 | cont(1) << 6 | cont(2), Swift.min(3, end - i))
        default: return ((b0 & 0x07) << 18 | cont(1) << 12 | cont(2) << 6 | cont(3), Swift.min(4, end - i))
        }
    }

    /// Werkzeug's `_cookie_unslash_re = rb"\\([0-3][0-7]{2}|.)"` replacement on the bytes inside the
    /// quotes, then UTF-8 decoding with U+FFFD for invalid sequences (`errors="replace"`).
    static func unslash(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.contains(UInt8(ascii: "\\")) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        func isOctal(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x37 }
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\\"), i + 1 < bytes.count {
                let c = bytes[i + 1]
                if c >= 0x30, c <= 0x33, i + 3 < bytes.count, isOctal(bytes[i + 2]), isOctal(bytes[i + 3]) {
                    out.append((c - 0x30) << 6 | (bytes[i + 2] - 0x30) << 3 | (bytes[i + 3] - 0x30))
                    i += 4
                    continue
                }
                if c != 0x0A { // `.` matches any byte but a newline
                    out.append(c)
                    i += 2
                    continue
                }
            }
            out.append(b)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
