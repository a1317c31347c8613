import Foundation
import Testing
@testable import SessionKit

/// The seeded generator of fault injection (SplitMix64), so property and fuzz tests are reproducible.
typealias SeededGenerator = SplitMix64

/// The Werkzeug vector groups of `Fixtures/flask-vectors.json`.
enum FlaskCookieVectors {
    static func load() throws -> [String: Any] {
        let url = try #require(Bundle.module.url(forResource: "flask-vectors", withExtension: "json", subdirectory: "Fixtures"))
        let data = try Data(contentsOf: url)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func group(_ name: String) throws -> [[String: Any]] {
        try #require(try load()[name] as? [[String: Any]])
    }

    /// `2030-01-02T03:04:05.000678+02:00` or a naive `2030-01-02T03:04:05` (taken as UTC).
    static func isoDate(_ text: String) throws -> Date {
        let bytes = Array(text.utf8)
        func number(_ from: Int, _ count: Int) throws -> Int {
            try #require(Int(String(decoding: bytes[from..<(from + count)], as: UTF8.self)))
        }
        let days = CookieDate.days(fromCivilYear: try number(0, 4), month: try number(5, 2), day: try number(8, 2))
        var seconds = Double(days * 86_400) + Double(try number(11, 2) * 3600 + number(14, 2) * 60 + number(17, 2))
        var i = 19
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            var fraction = "0."
            i += 1
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { fraction.unicodeScalars.append(Unicode.Scalar(bytes[i])); i += 1 }
            seconds += try #require(Double(fraction))
        }
        if i < bytes.count {
            let sign: Double = bytes[i] == UInt8(ascii: "-") ? -1 : 1
            seconds -= sign * Double(try number(i + 1, 2) * 3600 + number(i + 4, 2) * 60)
        }
        return Date(timeIntervalSince1970: seconds)
    }
}

/// Expects `body` to throw a `CookieError` with `code`.
func expectCookieError<R>(
    _ code: CookieError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R
) {
    let error = #expect(throws: CookieError.self, comment, sourceLocation: sourceLocation) { _ = try body() }
    #expect(error?.code == code, comment, sourceLocation: sourceLocation)
}
