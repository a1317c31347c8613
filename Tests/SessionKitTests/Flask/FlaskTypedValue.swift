import Foundation
@testable import SessionKit

/// The vectors' typed-value (TV) format (FORMAT.md §8) to ``FlaskValue``, and the vector file.
enum FlaskTypedValue {
    struct Unsupported: Error, CustomStringConvertible {
        let description: String
    }

    static func value(_ tv: Any) throws -> FlaskValue {
        guard let object = tv as? [String: Any], object.count == 1, let (tag, payload) = object.first else {
            throw Unsupported(description: "not a TV: \(tv)")
        }
        switch tag {
        case "str":
            return .string(payload as! String)
        case "int":
            let digits = payload as! String
            return Int(digits).map(FlaskValue.int) ?? .bigInt(digits)
        case "float":
            switch payload as! String {
            case "inf": return .double(.infinity)
            case "-inf": return .double(-.infinity)
            case "nan": return .double(.nan)
            case let text: return .double(Double(text)!)
            }
        case "bool":
            return .bool((payload as! NSNumber).boolValue)
        case "none":
            return .null
        case "list":
            return .list(try (payload as! [Any]).map(value))
        case "tuple":
            return .tuple(try (payload as! [Any]).map(value))
        case "dict":
            return .dict(try (payload as! [[Any]]).map { pair in
                if let object = pair[0] as? [String: Any], object["int"] != nil {
                    return FlaskDictEntry(integerKey: try key(pair[0]), try value(pair[1]))
                }
                return FlaskDictEntry(try key(pair[0]), try value(pair[1]))
            })
        case "bytes":
            return .bytes(hexBytes(payload as! String))
        case "markup":
            return .markup(payload as! String)
        case "uuid":
            return .uuid(UUID(uuidString: payload as! String)!)
        case "datetime":
            return .datetime(try isoSeconds(payload as! String))
        case "date":
            // json's default(): an http-date string at midnight, untagged.
            return .string(FlaskHTTPDate.format(try isoSeconds((payload as! String) + "T00:00:00")))
        default:
            throw Unsupported(description: "unknown TV tag \(tag)")
        }
    }

    /// A dict key: a JSON string, or a TV stringified as `json.dumps` does for keys.
    private static func key(_ tv: Any) throws -> String {
        if let string = tv as? String { return string }
        switch try value(tv) {
        case .int(let int): return String(int)
        case .bigInt(let digits): return digits
        case .bool(let bool): return bool ? "true" : "false"
        case .null: return "null"
        case .double(let double): return FlaskJSON.pythonRepr(double)
        default: throw Unsupported(description: "unsupported key \(tv)")
        }
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// `datetime.isoformat()`: `YYYY-MM-DDTHH:MM:SS[.ffffff][±HH:MM]` (naive read as UTC), in Unix seconds.
    static func isoSeconds(_ text: String) throws -> Int64 {
        let scalars = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64 { Int64(String(decoding: scalars[range], as: UTF8.self))! }
        guard scalars.count >= 19 else { throw Unsupported(description: "bad isoformat \(text)") }
        let days = FlaskHTTPDate.days(year: number(0..<4), month: Int(number(5..<7)), day: Int(number(8..<10)))
        var seconds = days * 86_400 + number(11..<13) * 3600 + number(14..<16) * 60 + number(17..<19)
        var index = 19
        if index < scalars.count && scalars[index] == UInt8(ascii: ".") {
            index += 1
            while index < scalars.count && scalars[index] >= UInt8(ascii: "0") && scalars[index] <= UInt8(ascii: "9") { index += 1 }
        }
        if index < scalars.count {
            let sign: Int64 = scalars[index] == UInt8(ascii: "-") ? -1 : 1
            let offset = number(index + 1..<index + 3) * 3600 + number(index + 4..<index + 6) * 60
            seconds -= sign * offset
        }
        return seconds
    }
}

/// The vector file, loaded once.
enum FlaskVectors {
    nonisolated(unsafe) static let all: [String: Any] = {
        let url = Bundle.module.url(forResource: "flask-vectors", withExtension: "json", subdirectory: "Fixtures")!
        let data = try! Data(contentsOf: url)
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static var sessionVectors: [[String: Any]] { all["session_vectors"] as! [[String: Any]] }

    static var sessionVectorIDs: [String] { sessionVectors.map { $0["id"] as! String } }

    static func sessionVector(_ id: String) -> [String: Any] {
        sessionVectors.first { $0["id"] as? String == id }!
    }
}

/// The value with every dict's entries sorted by key (for order-insensitive comparison).
func sortedDeep(_ value: FlaskValue) -> FlaskValue {
    switch value {
    case .dict(let entries):
        return .dict(entries.map { FlaskDictEntry($0.key, sortedDeep($0.value)) }.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
    case .list(let items): return .list(items.map(sortedDeep))
    case .tuple(let items): return .tuple(items.map(sortedDeep))
    default: return value
    }
}
