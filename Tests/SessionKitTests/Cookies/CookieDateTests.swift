import Foundation
import Testing
@testable import SessionKit

@Suite("CookieDate")
struct CookieDateTests {
    @Test func formatsIMFFixdate() {
        #expect(CookieDate.format(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(CookieDate.format(secondsSince1970: 1_700_000_000) == "Tue, 14 Nov 2023 22:13:20 GMT")
        #expect(CookieDate.format(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(CookieDate.format(secondsSince1970: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(CookieDate.format(secondsSince1970: 4_107_542_399) == "Sun, 28 Feb 2100 23:59:59 GMT")
        #expect(CookieDate.format(secondsSince1970: 4_133_980_799) == "Fri, 31 Dec 2100 23:59:59 GMT")
        #expect(CookieDate.format(secondsSince1970: -1) == "Wed, 31 Dec 1969 23:59:59 GMT")
        #expect(CookieDate.format(secondsSince1970: 253_402_300_799) == "Fri, 31 Dec 9999 23:59:59 GMT")
        #expect(CookieDate.format(secondsSince1970: .max) == "Fri, 31 Dec 9999 23:59:59 GMT") // clamped
        #expect(CookieDate.format(Date(timeIntervalSince1970: 1_700_000_000.999)) == "Tue, 14 Nov 2023 22:13:20 GMT")
        #expect(CookieDate.format(Date(timeIntervalSince1970: -0.5)) == "Wed, 31 Dec 1969 23:59:59 GMT") // toward the past
    }

    /// Every day from 1600 to 2500 against Foundation's Gregorian calendar (tests only).
    @Test func civilArithmeticMatchesFoundation() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        for days in stride(from: Int64(-135_140), through: 193_000, by: 1) {
            let (y, m, d) = CookieDate.civil(fromDays: days)
            #expect(CookieDate.days(fromCivilYear: y, month: m, day: d) == days)
            if days % 997 == 0 {
                let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: Date(timeIntervalSince1970: Double(days) * 86_400))
                #expect(parts.year == y && parts.month == m && parts.day == d, "\(days)")
            }
        }
    }

    @Test(arguments: [
        ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777),          // IMF-fixdate
        ("Sunday, 06-Nov-94 08:49:37 GMT", 784_111_777),         // RFC 850
        ("Sun Nov  6 08:49:37 1994", 784_111_777),               // asctime
        ("Sun, 06-Nov-1994 08:49:37 GMT", 784_111_777),          // Netscape dashed
        ("06 Nov 1994 08:49:37", 784_111_777),                   // no weekday, no zone
        ("sun, 06 NOV 1994 08:49:37 gmt", 784_111_777),          // case-insensitive months
        ("Sun, 6 November 1994 8:49:37 GMT", 784_111_777),       // long month, 1-digit day and hour
        ("1994 Nov 06 08:49:37", 784_111_777),                   // any order
        ("Sun,06-Nov-1994 08:49:37+0000", 784_111_777),          // odd delimiters
        ("Thu, 01 Jan 70 00:00:00 GMT", 0),                      // 70-99 -> 19xx
        ("Wed, 09 Jun 21 10:18:14 GMT", 1_623_233_894),          // 0-69 -> 20xx
        ("Mon, 01 Jan 00 00:00:00 GMT", 946_684_800),
        ("Thu, 31 Dec 69 23:59:59 GMT", 3_155_759_999),          // 2069
        ("Tue, 29 Feb 2000 00:00:00 GMT", 951_782_400),          // leap day
        ("Sat, 01 Jan 1601 00:00:00 GMT", -11_644_473_600),      // the earliest allowed year
        ("Fri, 31 Dec 9999 23:59:59 GMT", 253_402_300_799),
        ("Tue, 14 Nov 2023 22:13:20 GMT; x", 1_700_000_000),     // trailing junk
    ] as [(String, Int64)])
    func parsesEveryLegalForm(text: String, seconds: Int64) {
        #expect(CookieDate.parseSeconds(text) == seconds)
        #expect(CookieDate.parse(text) == Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    @Test(arguments: [
        "",
        "garbage",
        "Sun, 06 Nov 1994",                  // no time
        "06 1994 08:49:37",                  // no month
        "Nov 1994 08:49:37",                 // "1994" is no day-of-month: no day, then no year
        "Sun, 06 Nov 08:49:37 GMT",          // no year
        "Sun, 32 Nov 1994 08:49:37 GMT",     // day > 31
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Fri, 30 Feb 2024 08:49:37 GMT",     // impossible date
        "Sat, 29 Feb 1900 08:49:37 GMT",     // 1900 is not a leap year
        "Sun, 06 Nov 1600 08:49:37 GMT",     // year < 1601
        "Sun, 06 Nov 1994 24:00:00 GMT",     // hour > 23
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:60 GMT",     // no leap seconds
        "Sun, 06 Nov 1994 008:49:37 GMT",    // 3-digit time field
        "Sun, 06 Nov 19944 08:49:37 GMT",    // 5-digit year
        "Sun, 06 Nov 1994 08-49-37 GMT",     // '-' is a delimiter, so no time
    ])
    func rejects(text: String) {
        #expect(CookieDate.parse(text) == nil)
    }

    @Test func formatThenParseRoundTrips() {
        var random = SeededGenerator(seed: 6265)
        for _ in 0..<5000 {
            let seconds = Int64.random(in: -11_644_473_600...253_402_300_799, using: &random)
            let text = CookieDate.format(secondsSince1970: seconds)
            #expect(text.utf8.count == 29)
            #expect(CookieDate.parseSeconds(text) == seconds, "\(text)")
        }
    }
}
