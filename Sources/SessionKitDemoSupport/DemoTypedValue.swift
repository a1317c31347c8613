import Foundation
import SessionKit

/// The typed value of Flask's reference app (`TYPED_VALUE` in `flask_ref_app.py`) and its typed
/// description, so `/typed/set` on one server and `/typed/get` on the other can be compared.
package enum DemoTypedValue {
    /// `TYPED_VALUE`: a tuple, bytes, Markup, a UUID, a datetime, a tag-like key, unicode, floats,
    /// a big integer and nesting.
    package static let value: FlaskValue = .dict([
        FlaskDictEntry("tuple", .tuple([.int(1), .string("a"), .null, .tuple([.double(2.5), .bool(true)])])),
        FlaskDictEntry("bytes", .bytes([0x00, 0x01, 0xFE, 0xFF] + Array("bin".utf8))),
        FlaskDictEntry("markup", .markup("<b>bold</b> &amp; co")),
        FlaskDictEntry("uuid", .uuid(UUID(uuidString: "12345678-1234-5678-1234-567812345678")!)),
        FlaskDictEntry("datetime", .datetime(1_704_164_645)),
        FlaskDictEntry("tagkey", .dict([FlaskDictEntry(" t", .list([.int(1), .int(2)]))])),
        FlaskDictEntry("unicode", .string("用户 café 😀")),
        FlaskDictEntry("floats", .list([.double(0.1), .double(1e16), .double(1e-07), .double(-0.0), .double(3.0)])),
        FlaskDictEntry("big", .bigInt("18446744073709551617")),
        FlaskDictEntry("nested", .dict([
            FlaskDictEntry("list", .list([.int(1), .dict([FlaskDictEntry("x", .null)])])),
            FlaskDictEntry("flag", .bool(false)),
        ])),
    ])

    /// `typed_description(v)` written as `json.dumps(..., ensure_ascii=False, sort_keys=True)`.
    package static func describe(_ value: FlaskValue?) -> String {
        guard let value else { return "null" }
        var output = ""
        write(value, to: &output)
        return output
    }

    private static func write(_ value: FlaskValue, to output: inout String) {
        func tagged(_ tag: String, _ body: () -> Void) {
            output += "{\"\(tag)\": "
            body()
            output += "}"
        }
        func list(_ items: [FlaskValue]) {
            output += "["
            for (index, item) in items.enumerated() {
                if index > 0 { output += ", " }
                write(item, to: &output)
            }
            output += "]"
        }
        switch value {
        case .markup(let s): tagged("markup") { output += quoted(s) }
        case .bool(let b): tagged("bool") { output += b ? "true" : "false" }
        case .null: output += "{\"none\": null}"
        case .int(let i): tagged("int") { output += quoted(String(i)) }
        case .bigInt(let digits): tagged("int") { output += quoted(digits) }
        case .double(let d): tagged("float") { output += quoted(String(decoding: FlaskJSON.plainBytes(.double(d)), as: UTF8.self)) }
        case .string(let s): tagged("str") { output += quoted(s) }
        case .bytes(let bytes): tagged("bytes") { output += quoted(bytes.map { String(format: "%02x", $0) }.joined()) }
        case .uuid(let uuid): tagged("uuid") { output += quoted(uuid.uuidString.lowercased()) }
        case .datetime(let seconds): tagged("datetime") { output += quoted(isoformat(seconds)) }
        case .tuple(let items): tagged("tuple") { list(items) }
        case .list(let items): tagged("list") { list(items) }
        case .dict(let entries):
            tagged("dict") {
                output += "["
                for (index, entry) in entries.enumerated() {
                    if index > 0 { output += ", " }
                    output += "[\(quoted(entry.key)), "
                    write(entry.value, to: &output)
                    output += "]"
                }
                output += "]"
            }
        }
    }

    /// A JSON string as Python writes it with `ensure_ascii=False`.
    private static func quoted(_ string: String) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// `datetime.isoformat()` of an aware UTC datetime: `2024-01-02T03:04:05+00:00`.
    private static func isoformat(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        return text.hasSuffix("Z") ? String(text.dropLast()) + "+00:00" : text
    }
}
