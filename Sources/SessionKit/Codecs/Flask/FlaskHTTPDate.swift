/// The dates of Flask's `" d"` tag: Werkzeug's `http_date` on write
/// (`Tue, 02 Jan 2024 03:04:05 GMT`) and `parse_date` (`email.utils.parsedate_to_datetime`, lenient
/// RFC 2822) on read. No Foundation formatter involved.
///
/// ```swift
/// FlaskHTTPDate.format(1_704_164_645)                    // "Tue, 02 Jan 2024 03:04:05 GMT"
/// FlaskHTTPDate.parse("Tue, 02 Jan 2024 03:04:05 GMT")   // 1_704_164_645
/// ```
enum FlaskHTTPDate {
    /// `email.utils._monthnames`: abbreviations, then full names ("may" twice, "aug" for August).
    private static let parseMonthNames = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        "january", "february", "march", "april", "may", "june", "july", "aug", "september", "october", "november", "december",
    ]
    private static let parseDayNames: Set<String> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    private static let timeZones: [String: Int] = [
        "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "AST": -400, "ADT": -300, "EST": -500, "EDT": -400,
        "CST": -600, "CDT": -500, "MST": -700, "MDT": -600, "PST": -800, "PDT": -700,
    ]

    /// `'%s, %02d %s %04d %02d:%02d:%02d GMT'` for a time in Unix seconds (UTC): the cookie-date
    /// writer, unclamped.
    static func format(_ seconds: Int64, into output: inout [UInt8]) {
        CookieDate.appendIMFFixdate(seconds, to: &output)
    }

    static func format(_ seconds: Int64) -> String {
        var output: [UInt8] = []
        format(seconds, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// A proleptic Gregorian date to days since 1970-01-01.
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func isLeap(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Werkzeug's `parse_date`: `email.utils.parsedate_to_datetime` (CPython 3.11), a missing zone
    /// read as UTC. `nil` where Python returns `None` (unparsable text or an impossible date).
    static func parse(_ text: String) -> Int64? {
        // str.split(): runs of whitespace separate, leading and trailing whitespace ignored.
        var data = text.unicodeScalars.split(whereSeparator: { $0.properties.isWhitespace }).map { String($0) }
        if data.isEmpty { return nil }
        if data[0].hasSuffix(",") || parseDayNames.contains(data[0].lowercased()) {
            data.removeFirst()
        } else if let comma = data[0].unicodeScalars.lastIndex(of: ",") {
            data[0] = String(data[0].unicodeScalars[data[0].unicodeScalars.index(after: comma)...])
        }
        if data.count == 3 {
            let stuff = data[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            if stuff.count == 3 { data = stuff + data[1...] }
        }
        if data.count == 4 {
            let s = data[3]
            var split = s.firstIndex(of: "+")
            if split == nil { split = s.firstIndex(of: "-") }
            if let split, split > s.startIndex {
                data.replaceSubrange(3..., with: [String(s[..<split]), String(s[split...])])
            } else {
                data.append("")
            }
        }
        if data.count < 5 { return nil }
        var (dd, mm, yy, tm, tz) = (data[0], data[1], data[2], data[3], data[4])
        if dd.isEmpty || mm.isEmpty || yy.isEmpty { return nil }
        mm = mm.lowercased()
        if !parseMonthNames.contains(mm) {
            (dd, mm) = (mm, dd.lowercased())
            if !parseMonthNames.contains(mm) { return nil }
        }
        var month = parseMonthNames.firstIndex(of: mm)! + 1
        if month > 12 { month -= 12 }
        if dd.hasSuffix(",") { dd.removeLast() }
        if let colon = yy.firstIndex(of: ":"), colon > yy.startIndex { (yy, tm) = (tm, yy) }
        if yy.hasSuffix(",") {
            yy.removeLast()
            if yy.isEmpty { return nil }
        }
        if let first = yy.unicodeScalars.first, !("0"..."9").contains(first) { (yy, tz) = (tz, yy) }
        if tm.hasSuffix(",") {
            tm.removeLast()
            if tm.isEmpty { return nil }
        }
        var parts = tm.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 {
            parts.append("0")
        } else if parts.count == 1 && tm.contains(".") {
            parts = tm.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2 { parts.append("0") } else if parts.count != 3 { return nil }
        } else if parts.count != 3 {
            return nil
        }
        guard var year = pythonInt(yy), let day = pythonInt(dd), let hour = pythonInt(parts[0]),
              let minute = pythonInt(parts[1]), let second = pythonInt(parts[2]) else { return nil }
        if year < 100 { year += year > 68 ? 1900 : 2000 }
        var offset: Int64 = 0
        let zone = tz.uppercased()
        if let known = timeZones[zone] {
            offset = Int64(known)
        } else if let number = pythonInt(zone), !(number == 0 && zone.hasPrefix("-")) {
            offset = number
        }
        if offset != 0 {
            let sign: Int64 = offset < 0 ? -1 : 1
            let magnitude = offset.magnitude
            guard magnitude < UInt64(Int64.max / 3600) else { return nil }
            offset = sign * (Int64(magnitude / 100) * 3600 + Int64(magnitude % 100) * 60)
            // datetime.timezone accepts only |offset| < 24 hours.
            guard offset.magnitude < 86_400 else { return nil }
        }
        // datetime(...) validation.
        let monthDays = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...9999).contains(year), (1...Int64(monthDays[month - 1])).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        let local = days(year: year, month: month, day: Int(day)) * 86_400 + hour * 3600 + minute * 60 + second
        return local - offset
    }

    /// Python's `int(text)` for ASCII text: surrounding whitespace, an optional sign, decimal digits
    /// with single underscores between them. `nil` for anything else or absurdly long numbers.
    static func pythonInt(_ text: String) -> Int64? {
        let scalars = Array(text.unicodeScalars.drop(while: { $0.properties.isWhitespace }))
        var end = scalars.count
        while end > 0 && scalars[end - 1].properties.isWhitespace { end -= 1 }
        var index = 0
        var negative = false
        if index < end && (scalars[index] == "+" || scalars[index] == "-") {
            negative = scalars[index] == "-"
            index += 1
        }
        guard index < end else { return nil }
        var value: Int64 = 0
        var previousWasDigit = false
        while index < end {
            let scalar = scalars[index]
            if scalar == "_" {
                guard previousWasDigit, index + 1 < end else { return nil }
                previousWasDigit = false
            } else if ("0"..."9").contains(scalar) {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(scalar.value - 48))
                guard !overflow1, !overflow2 else { return nil }
                value = sum
                previousWasDigit = true
            } else {
                return nil
            }
            index += 1
        }
        guard previousWasDigit else { return nil }
        return negative ? -value : value
    }
}
