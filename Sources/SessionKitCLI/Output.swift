import Foundation
import SessionKit

/// How the tool writes: results on stdout, diagnostics on stderr, JSON without Foundation's quirks.
enum Output {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A session's values as one JSON object, keys sorted by code point.
    ///
    /// Every value is parsed and written anew, never copied: a cookie's value bytes are whatever its
    /// maker put there (`decode --no-verify` shows cookies nobody vouches for), and spliced in they
    /// could break the JSON or forge keys. A value that is not JSON is shown as a string of its
    /// bytes (invalid UTF-8 replaced), with a note on stderr.
    static func json(_ values: [String: SessionValue]) -> String {
        let keys = values.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (index, key) in keys.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += FlaskJSON.plainBytes(.string(key))
            bytes.append(UInt8(ascii: ":"))
            let raw = values[key]!.jsonBytes
            if let parsed = try? FlaskJSON.parse(raw) {
                bytes += FlaskJSON.plainBytes(parsed)
            } else {
                error("value of \(String(decoding: FlaskJSON.plainBytes(.string(key)), as: UTF8.self)) is not JSON; shown as a string")
                bytes += FlaskJSON.plainBytes(.string(String(decoding: raw, as: UTF8.self)))
            }
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// ISO 8601 in UTC.
    static func iso(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
