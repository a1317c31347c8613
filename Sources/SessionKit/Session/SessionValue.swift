import Foundation

/// One value of a session, in the form codecs and stores exchange: either JSON text (what a Swift
/// `Codable` value encodes to) or a ``FlaskValue`` (what a Flask cookie held, tags and all).
///
/// Reading converts between the two only when asked; a value that is never read is never decoded.
///
/// ```swift
/// let value = try SessionValue(encoding: ["apple", "pear"])
/// let cart = try value.decode([String].self)   // ["apple", "pear"]
/// ```
public struct SessionValue: Sendable, Equatable {
    @usableFromInline
    enum Storage: Sendable, Equatable {
        case json([UInt8])
        case flask(FlaskValue)
    }

    @usableFromInline
    var storage: Storage

    /// A value from its JSON text (UTF-8). The bytes are not checked until the value is decoded.
    public init(json: some Collection<UInt8>) {
        self.storage = .json(Array(json))
    }

    /// A value that keeps Flask's exact type.
    public init(flask: FlaskValue) {
        self.storage = .flask(flask)
    }

    /// Encodes a Swift value. Strings, integers, booleans and doubles take a fast path.
    public init<Value: Encodable>(encoding value: Value) throws {
        switch value {
        case let string as String: self.storage = .flask(.string(string))
        case let int as Int: self.storage = .flask(.int(int))
        case let bool as Bool: self.storage = .flask(.bool(bool))
        case let double as Double: self.storage = .flask(.double(double))
        default:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .secondsSince1970
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
            self.storage = .json(Array(try encoder.encode(value)))
        }
    }

    /// The value as JSON text: Flask-only types become their plain JSON forms (a tuple an array,
    /// bytes a base64 string, a UUID its string, a datetime its Unix seconds).
    public var jsonBytes: [UInt8] {
        switch storage {
        case .json(let bytes): return bytes
        case .flask(let value): return FlaskJSON.plainBytes(value)
        }
    }

    /// The value as Flask sees it: JSON text is read as plain JSON (objects, arrays, numbers...).
    public func flaskValue() throws -> FlaskValue {
        switch storage {
        case .flask(let value): return value
        case .json(let bytes): return try FlaskJSON.parse(bytes)
        }
    }

    /// Decodes the value as `Value`.
    public func decode<Value: Decodable>(_ type: Value.Type = Value.self) throws -> Value {
        if case .flask(let flask) = storage {
            switch flask {
            case .string(let string) where Value.self == String.self: return unsafeBitCast(string, to: Value.self)
            case .int(let int) where Value.self == Int.self: return unsafeBitCast(int, to: Value.self)
            case .bool(let bool) where Value.self == Bool.self: return unsafeBitCast(bool, to: Value.self)
            case .double(let double) where Value.self == Double.self: return unsafeBitCast(double, to: Value.self)
            case .int(let int) where Value.self == Double.self: return unsafeBitCast(Double(int), to: Value.self)
            default: break
            }
        }
        if case .json(let bytes) = storage, let value: Value = Self.plainJSON(bytes) { return value }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(Value.self, from: Data(jsonBytes))
    }

    /// JSON text that is a plain integer, `true`/`false` or a string without escapes, read as
    /// `Int`, `Bool` or `String` without JSONDecoder (which was a measured quarter of a cookie
    /// session's `/write`). Anything else, including text JSONDecoder would reject, is nil and
    /// left to JSONDecoder.
    /// (Each branch runs only when `Value` is that very type, so the bit casts are identity casts
    /// that skip the runtime's dynamic cast.)
    static func plainJSON<Value>(_ bytes: [UInt8]) -> Value? {
        if Value.self == Int.self {
            guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
            var index = bytes[0] == UInt8(ascii: "-") ? 1 : 0
            let negative = index == 1
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "0"), bytes.count > index + 1 { return nil } // leading zero
            var result = 0
            while index < bytes.count {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                result = result * 10 + Int(digit)
                index += 1
            }
            return unsafeBitCast(negative ? -result : result, to: Value.self)
        }
        if Value.self == String.self {
            let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
            guard bytes.count >= 2, bytes[0] == quote, bytes[bytes.count - 1] == quote else { return nil }
            return bytes.withUnsafeBufferPointer { all -> Value? in
                let inner = UnsafeBufferPointer(rebasing: all[1..<(all.count - 1)])
                var ascii = true
                for byte in inner {
                    if byte == quote || byte == backslash || byte < 0x20 { return nil }
                    if byte >= 0x80 { ascii = false }
                }
                let string = ascii ? String(decoding: inner, as: UTF8.self) : String(validating: inner, as: UTF8.self)
                guard let string else { return nil }
                return unsafeBitCast(string, to: Value.self)
            }
        }
        if Value.self == Bool.self {
            if bytes.elementsEqual("true".utf8) { return unsafeBitCast(true, to: Value.self) }
            if bytes.elementsEqual("false".utf8) { return unsafeBitCast(false, to: Value.self) }
        }
        return nil
    }
}
