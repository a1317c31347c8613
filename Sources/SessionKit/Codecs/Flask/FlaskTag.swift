import Foundation

/// Flask's `TaggedJSONSerializer` on the read side: `_untag_scan` (children first, then the dict
/// itself; a converted value is not scanned again) and each tag's `to_python`, including what they
/// do with unexpected inner values.
///
/// ```swift
/// let json = try FlaskJSON.parse(Array(#"{" t":[1,2]}"#.utf8))
/// let value = try FlaskTag.untagScan(json)      // .tuple([.int(1), .int(2)])
/// ```
enum FlaskTag {
    /// `_untag_scan`. Throws where Python raises inside `loads` (Flask: `BadPayload`, HTTP 500).
    static func untagScan(_ value: FlaskValue) throws(FlaskJSONError) -> FlaskValue {
        switch value {
        case .dict(var entries):
            for index in entries.indices where entries[index].value.isContainer {
                entries[index].value = try untagScan(entries[index].value)
            }
            return try untag(entries)
        case .list(var items):
            for index in items.indices where items[index].isContainer {
                items[index] = try untagScan(items[index])
            }
            return .list(items)
        default:
            return value
        }
    }

    /// `untag`: a 1-key dict whose key is a registered tag becomes that tag's value.
    private static func untag(_ entries: [FlaskDictEntry]) throws(FlaskJSONError) -> FlaskValue {
        guard entries.count == 1 else { return .dict(entries) }
        let inner = entries[0].value
        switch entries[0].key {
        case " di":
            // {key[:-2]: value[key]} for the first key of a dict; anything else raises.
            guard case .dict(let innerEntries) = inner, let first = innerEntries.first else { throw .badTag() }
            let scalars = first.key.unicodeScalars
            let key = String(String.UnicodeScalarView(scalars.dropLast(2)))
            return .dict([FlaskDictEntry(key, first.value)])
        case " t":
            // tuple(value): any iterable.
            switch inner {
            case .list(let items), .tuple(let items): return .tuple(items)
            case .string(let string), .markup(let string): return .tuple(string.unicodeScalars.map { .string(String($0)) })
            case .bytes(let bytes): return .tuple(bytes.map { .int(Int($0)) })
            case .dict(let innerEntries): return .tuple(innerEntries.map { .string($0.key) })
            default: throw .badTag()
            }
        case " b":
            // b64decode(value): a str must be ASCII; bytes-like input decodes as is.
            switch inner {
            case .string(let string), .markup(let string):
                guard string.utf8.allSatisfy({ $0 < 0x80 }), let bytes = FlaskBase64.decodePython(string.utf8) else { throw .badTag() }
                return .bytes(bytes)
            case .bytes(let raw):
                guard let bytes = FlaskBase64.decodePython(raw) else { throw .badTag() }
                return .bytes(bytes)
            default:
                throw .badTag()
            }
        case " m":
            // Markup(value) is str(value) for the scalar types; containers (Python repr) are not supported.
            switch inner {
            case .string(let string), .markup(let string): return .markup(string)
            case .int(let int): return .markup(String(int))
            case .bigInt(let digits): return .markup(digits)
            case .bool(let bool): return .markup(bool ? "True" : "False")
            case .null: return .markup("None")
            case .double(let double):
                if double.isNaN { return .markup("nan") }
                if double.isInfinite { return .markup(double < 0 ? "-inf" : "inf") }
                var text: [UInt8] = []
                FlaskJSONWriter.appendPythonRepr(double, into: &text)
                return .markup(String(decoding: text, as: UTF8.self))
            default:
                throw .badTag()
            }
        case " u":
            switch inner {
            case .string(let string), .markup(let string):
                guard let uuid = parseUUID(string) else { throw .badTag() }
                return .uuid(uuid)
            default:
                throw .badTag()
            }
        case " d":
            // werkzeug.http.parse_date: unparsable text and falsy values give None.
            switch inner {
            case .string(let string), .markup(let string):
                guard let seconds = FlaskHTTPDate.parse(string) else { return .null }
                return .datetime(seconds)
            case .null, .bool(false), .int(0), .bytes:
                return .null
            case .double(let double) where double == 0:
                return .null
            case .list(let items) where items.isEmpty:
                return .null
            case .tuple(let items) where items.isEmpty:
                return .null
            case .dict(let items) where items.isEmpty:
                return .null
            default:
                throw .badTag()
            }
        default:
            return .dict(entries)
        }
    }

    /// `uuid.UUID(text)`: `urn:` and `uuid:` removed, braces stripped from both ends, dashes
    /// removed, then exactly 32 characters that `int(text, 16)` reads.
    static func parseUUID(_ text: String) -> UUID? {
        let text = text.replacingOccurrences(of: "urn:", with: "").replacingOccurrences(of: "uuid:", with: "")
        var scalars = Array(text.unicodeScalars)
        while let first = scalars.first, first == "{" || first == "}" { scalars.removeFirst() }
        while let last = scalars.last, last == "{" || last == "}" { scalars.removeLast() }
        scalars.removeAll { $0 == "-" }
        guard scalars.count == 32 else { return nil }
        // int(text, 16): surrounding whitespace, a plus sign, an optional 0x prefix, underscores between digits.
        var body = scalars[...]
        while let first = body.first, first.properties.isWhitespace { body.removeFirst() }
        while let last = body.last, last.properties.isWhitespace { body.removeLast() }
        // (A minus sign cannot occur: the dashes are gone.)
        if body.first == "+" { body.removeFirst() }
        guard let digits = hexDigits(body) else { return nil }
        var bytes = [UInt8](repeating: 0, count: 16)
        // Right-align the digits (the value is below 2^128 with at most 32 digits).
        for (position, digit) in digits.reversed().enumerated() {
            let byteIndex = 15 - position / 2
            bytes[byteIndex] |= position % 2 == 0 ? digit : digit << 4
        }
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// The hex digit values of Python's base-16 integer body: an optional `0x`, then digits with single
    /// underscores between them (one may follow the prefix).
    private static func hexDigits(_ text: ArraySlice<Unicode.Scalar>) -> [UInt8]? {
        var body = text
        var afterPrefix = false
        if body.count >= 2, body.first == "0", body.dropFirst().first == "x" || body.dropFirst().first == "X" {
            body.removeFirst(2)
            afterPrefix = true
        }
        var digits: [UInt8] = []
        var previousAllowsUnderscore = afterPrefix
        for scalar in body {
            if scalar == "_" {
                guard previousAllowsUnderscore else { return nil }
                previousAllowsUnderscore = false
                continue
            }
            guard let digit = asciiDigit(scalar) ?? hexLetter(scalar) else { return nil }
            digits.append(digit)
            previousAllowsUnderscore = true
        }
        guard !digits.isEmpty, body.last != "_" else { return nil }
        return digits
    }

    private static func asciiDigit(_ scalar: Unicode.Scalar) -> UInt8? {
        ("0"..."9").contains(scalar) ? UInt8(scalar.value - 48) : nil
    }

    private static func hexLetter(_ scalar: Unicode.Scalar) -> UInt8? {
        switch scalar {
        case "a"..."f": return UInt8(scalar.value - 87)
        case "A"..."F": return UInt8(scalar.value - 55)
        default: return nil
        }
    }
}

extension FlaskValue {
    /// Whether untagging has anything to look at inside this value.
    fileprivate var isContainer: Bool {
        switch self {
        case .dict, .list: return true
        default: return false
        }
    }
}
