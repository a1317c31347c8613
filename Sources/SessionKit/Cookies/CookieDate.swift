import Foundation

/// Cookie dates: writing IMF-fixdate (`Thu, 01 Jan 1970 00:00:00 GMT`) and reading any date a browser
/// accepts, with the RFC 6265 section 5.1.1 algorithm. Written by hand from Unix seconds: no
/// `DateFormatter`, no locale, no allocation beyond the returned string.
///
/// ```swift
/// CookieDate.format(Date(timeIntervalSince1970: 0))        // "Thu, 01 Jan 1970 00:00:00 GMT"
/// CookieDate.parse("Sunday, 06-Nov-94 08:49:37 GMT")        // 1994-11-06 08:49:37 UTC
/// CookieDate.parse("Sun Nov  6 08:49:37 1994")              // the same instant (asctime)
/// ```
public enum CookieDate {
    /// The smallest and largest Unix seconds `format` can write (years 1 to 9999).
    public static let supportedSeconds: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    private static let weekdays: [StaticString] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months: [StaticString] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The IMF-fixdate of a date, seconds truncated toward the past. Dates outside years 1-9999 are
    /// clamped to that range.
    public static func format(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        guard t.isFinite else { return format(secondsSince1970: t > 0 ? supportedSeconds.upperBound : supportedSeconds.lowerBound) }
        let clamped = min(max(t.rounded(.down), Double(supportedSeconds.lowerBound)), Double(supportedSeconds.upperBound))
        return format(secondsSince1970: Int64(clamped))
    }

    /// The IMF-fixdate of Unix seconds (clamped to years 1-9999).
    public static func format(secondsSince1970 seconds: Int64) -> String {
        let s = min(max(seconds, supportedSeconds.lowerBound), supportedSeconds.upperBound)
        var out = [UInt8]()
        out.reserveCapacity(29)
        appendIMFFixdate(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes `Wdy, DD Mon YYYY HH:MM:SS GMT` for any Unix seconds, unclamped, with C printf's `%0Nd`
    /// padding (what Python's `email.utils.format_datetime` gives for the years it allows); the one
    /// writer behind cookie dates and Flask's `" d"` tag.
    static func appendIMFFixdate(_ seconds: Int64, to out: inout [UInt8]) {
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        let weekday = Int(((days % 7) + 11) % 7) // 1970-01-01 was a Thursday (4)
        append(weekdays[weekday], to: &out)
        out.append(UInt8(ascii: ","))
        out.append(UInt8(ascii: " "))
        appendPadded(day, width: 2, to: &out)
        out.append(UInt8(ascii: " "))
        append(months[month - 1], to: &out)
        out.append(UInt8(ascii: " "))
        appendPadded(year, width: 4, to: &out)
        out.append(UInt8(ascii: " "))
        appendPadded(Int(secondOfDay / 3600), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(Int(secondOfDay / 60 % 60), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(Int(secondOfDay % 60), width: 2, to: &out)
        append(" GMT", to: &out)
    }

    /// `%0Nd` as C's printf writes it (a minus sign counts toward the width).
    private static func appendPadded(_ value: Int, width: Int, to out: inout [UInt8]) {
        let digits = String(value.magnitude)
        let length = digits.utf8.count + (value < 0 ? 1 : 0)
        if value < 0 { out.append(UInt8(ascii: "-")) }
        if length < width { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - length)) }
        out.append(contentsOf: digits.utf8)
    }

    /// Parses a cookie date as a browser does (RFC 6265 section 5.1.1): IMF-fixdate, RFC 850
    /// (`Sunday, 06-Nov-94 08:49:37 GMT`), asctime (`Sun Nov  6 08:49:37 1994`) and the many variants
    /// servers send. Two-digit years 70-99 are 19xx, 0-69 are 20xx. Returns nil for anything the
    /// algorithm rejects (a missing part, an impossible day such as 30 Feb, a year before 1601).
    public static func parse(_ string: some StringProtocol) -> Date? {
        parseSeconds(string).map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// `parse`, as Unix seconds.
    public static func parseSeconds(_ string: some StringProtocol) -> Int64? {
        var time: (Int, Int, Int)?
        var dayOfMonth: Int?
        var month: Int?
        var year: Int?
        let bytes = string.utf8
        var i = bytes.startIndex
        // Long inputs cannot be dates; bound the work anyway.
        var budget = 4096
        while i != bytes.endIndex, budget > 0 {
            // skip delimiters
            while i != bytes.endIndex, isDelimiter(bytes[i]) { i = bytes.index(after: i); budget -= 1 }
            guard i != bytes.endIndex, budget > 0 else { break }
            var token: [UInt8] = []
            while i != bytes.endIndex, !isDelimiter(bytes[i]), budget > 0 {
                if token.count < 32 { token.append(bytes[i]) }
                i = bytes.index(after: i)
                budget -= 1
            }
            if time == nil, let hms = parseTime(token) {
                time = hms
            } else if dayOfMonth == nil, let d = leadingDigits(token, min: 1, max: 2) {
                dayOfMonth = d
            } else if month == nil, let m = parseMonth(token) {
                month = m
            } else if year == nil, let y = leadingDigits(token, min: 2, max: 4) {
                year = y
            }
        }
        guard var y = year, let d = dayOfMonth, let m = month, let (hh, mm, ss) = time else { return nil }
        if y >= 70 && y <= 99 { y += 1900 } else if y >= 0 && y <= 69 { y += 2000 }
        guard d >= 1, d <= 31, y >= 1601, hh <= 23, mm <= 59, ss <= 59 else { return nil }
        guard d <= daysInMonth(year: y, month: m) else { return nil }
        return days(fromCivilYear: y, month: m, day: d) * 86_400 + Int64(hh * 3600 + mm * 60 + ss)
    }

    // MARK: - Calendar arithmetic (Howard Hinnant's days-from-civil)

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func days(fromCivilYear year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of days since 1970-01-01.
    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d))
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    // MARK: - Parsing helpers

    /// RFC 6265 delimiter: %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E.
    private static func isDelimiter(_ b: UInt8) -> Bool {
        b == 0x09 || (0x20...0x2F).contains(b) || (0x3B...0x40).contains(b) || (0x5B...0x60).contains(b) || (0x7B...0x7E).contains(b)
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// `min*max DIGIT ( non-digit *OCTET )`: the value of the leading digits.
    private static func leadingDigits(_ token: [UInt8], min: Int, max: Int) -> Int? {
        var n = 0
        var count = 0
        while count < token.count, isDigit(token[count]) {
            n = n * 10 + Int(token[count] - 0x30)
            count += 1
            if count > max { return nil }
        }
        return count >= min ? n : nil
    }

    /// `hms-time ( non-digit *OCTET )`, hms-time = time-field ":" time-field ":" time-field, 1*2DIGIT each.
    private static func parseTime(_ token: [UInt8]) -> (Int, Int, Int)? {
        var fields: [Int] = []
        var i = 0
        for field in 0..<3 {
            var n = 0
            var count = 0
            while i < token.count, isDigit(token[i]) {
                n = n * 10 + Int(token[i] - 0x30)
                count += 1
                i += 1
                if count > 2 { return nil }
            }
            guard count >= 1 else { return nil }
            fields.append(n)
            if field < 2 {
                guard i < token.count, token[i] == UInt8(ascii: ":") else { return nil }
                i += 1
            }
        }
        // after the third field: end or a non-digit (guaranteed by the loop above)
        return (fields[0], fields[1], fields[2])
    }

    /// `month *OCTET`: the first three characters name a month, case-insensitively.
    private static func parseMonth(_ token: [UInt8]) -> Int? {
        guard token.count >= 3 else { return nil }
        let lower = token.prefix(3).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        for (index, name) in months.enumerated() {
            let n = name.utf8Start
            if lower[0] == n[0] | 0x20, lower[1] == n[1] | 0x20, lower[2] == n[2] | 0x20 { return index + 1 }
        }
        return nil
    }

    private static func append(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}
