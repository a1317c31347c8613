import Foundation

/// Flask's JSON text: the exact bytes Flask's `json.dumps(sort_keys=True, ensure_ascii=True,
/// separators=(",", ":"))` writes, and a reader for what Flask accepts.
///
/// ```swift
/// let bytes = FlaskJSON.taggedBytes(.dict([FlaskDictEntry("username", .string("alice"))]))
/// // {"username":"alice"}
/// ```
public enum FlaskJSON {
    // TEMPORARY until the Flask codec lands: a plain writer and reader through Foundation.
    /// Plain JSON (no tags): tuples as arrays, bytes as base64, UUIDs as strings, datetimes as seconds.
    public static func plainBytes(_ value: FlaskValue) -> [UInt8] {
        let object = foundationObject(value)
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed, .sortedKeys])) ?? Data("null".utf8)
        return Array(data)
    }

    /// Parses JSON text (no untagging) into a ``FlaskValue``.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> FlaskValue {
        let object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        return value(object)
    }

    private static func foundationObject(_ value: FlaskValue) -> Any {
        switch value {
        case .string(let s), .markup(let s), .bigInt(let s): return s
        case .int(let i): return i
        case .double(let d): return d
        case .bool(let b): return b
        case .null: return NSNull()
        case .list(let l), .tuple(let l): return l.map(foundationObject)
        case .dict(let entries): return Dictionary(entries.map { ($0.key, foundationObject($0.value)) }, uniquingKeysWith: { $1 })
        case .bytes(let b): return Data(b).base64EncodedString()
        case .uuid(let u): return u.uuidString
        case .datetime(let t): return t
        }
    }

    private static func value(_ object: Any) -> FlaskValue {
        switch object {
        case let s as String: return .string(s)
        case let b as Bool where type(of: object) == Bool.self: return .bool(b)
        case let i as Int: return .int(i)
        case let d as Double: return .double(d)
        case let a as [Any]: return .list(a.map(value))
        case let d as [String: Any]: return .dict(d.map { FlaskDictEntry($0.key, value($0.value)) })
        default: return .null
        }
    }
}
