import Foundation

/// Writes a ``FlaskValue`` as the exact text of Python's
/// `json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"), allow_nan=True)`,
/// either through Flask's tags (`tagged`) or as plain JSON for `Codable` readers.
///
/// ```swift
/// var writer = FlaskJSONWriter(tagged: true)
/// writer.write(.tuple([.int(1)]))
/// // writer.output == Array(#"{" t":[1]}"#.utf8)
/// ```
struct FlaskJSONWriter {
    /// The keys Flask's `TaggedJSONSerializer` registers; a 1-key dict with one of them is wrapped in `" di"`.
    static let tagKeys: Set<[UInt8]> = [" di", " t", " b", " m", " u", " d"].map { Array($0.utf8) }.reduce(into: []) { $0.insert($1) }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    var output: [UInt8] = []
    /// Whether tags are written (Flask's cookie) or plain JSON forms (for `Codable`).
    let tagged: Bool
    /// Set when a value could not be written faithfully: a `.bigInt` that is not a decimal integer.
    private(set) var invalid = false

    init(tagged: Bool, capacity: Int = 256) {
        self.tagged = tagged
        output.reserveCapacity(capacity)
    }

    mutating func write(_ value: FlaskValue) {
        switch value {
        case .string(let string):
            writeString(string)
        case .int(let int):
            output.append(contentsOf: String(int).utf8)
        case .bigInt(let digits):
            writeBigInt(digits)
        case .double(let double):
            writeDouble(double)
        case .bool(let bool):
            output.append(contentsOf: bool ? "true".utf8 : "false".utf8)
        case .null:
            output.append(contentsOf: "null".utf8)
        case .list(let items):
            writeArray(items)
        case .tuple(let items):
            if tagged {
                openTag(" t")
                writeArray(items)
                output.append(UInt8(ascii: "}"))
            } else {
                writeArray(items)
            }
        case .dict(let entries):
            writeDict(entries)
        case .bytes(let bytes):
            if tagged { openTag(" b") }
            output.append(UInt8(ascii: "\""))
            FlaskBase64.encodeStandard(bytes, into: &output)
            output.append(UInt8(ascii: "\""))
            if tagged { output.append(UInt8(ascii: "}")) }
        case .markup(let string):
            if tagged { openTag(" m") }
            writeString(string)
            if tagged { output.append(UInt8(ascii: "}")) }
        case .uuid(let uuid):
            // Tagged: `{" u": uuid.hex}`, 32 lowercase hex digits without dashes.
            if tagged { openTag(" u") }
            output.append(UInt8(ascii: "\""))
            appendHex(uuid, dashes: !tagged)
            output.append(UInt8(ascii: "\""))
            if tagged { output.append(UInt8(ascii: "}")) }
        case .datetime(let seconds):
            if tagged {
                openTag(" d")
                output.append(UInt8(ascii: "\""))
                FlaskHTTPDate.format(seconds, into: &output)
                output.append(contentsOf: "\"}".utf8)
            } else {
                output.append(contentsOf: String(seconds).utf8)
            }
        }
    }

    /// Writes `{"<tag>":` (the caller writes the value and the closing brace).
    private mutating func openTag(_ tag: StaticString) {
        output.append(contentsOf: "{\"".utf8)
        output.append(contentsOf: UnsafeBufferPointer(start: tag.utf8Start, count: tag.utf8CodeUnitCount))
        output.append(contentsOf: "\":".utf8)
    }

    private mutating func writeArray(_ items: [FlaskValue]) {
        output.append(UInt8(ascii: "["))
        for (index, item) in items.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            write(item)
        }
        output.append(UInt8(ascii: "]"))
    }

    /// A dict: entries sorted by code point (duplicates: the last wins); in tagged mode a 1-key dict
    /// whose key is a tag key is wrapped as `{" di":{"<key>__":value}}`.
    mutating func writeDict(_ entries: [FlaskDictEntry]) {
        let sorted = Self.sortedUnique(entries)
        if tagged, sorted.count == 1, Self.tagKeys.contains(Array(sorted[0].key.utf8)) {
            openTag(" di")
            output.append(UInt8(ascii: "{"))
            writeString(sorted[0].key + "__")
            output.append(UInt8(ascii: ":"))
            write(sorted[0].value)
            output.append(contentsOf: "}}".utf8)
            return
        }
        output.append(UInt8(ascii: "{"))
        for (index, entry) in sorted.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            writeString(entry.key)
            output.append(UInt8(ascii: ":"))
            write(entry.value)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Entries whose keys are all Python ints, in numeric order (what `sort_keys` does before the
    /// keys become strings), one per distinct key.
    static func sortedNumerically(_ entries: [FlaskDictEntry]) -> [FlaskDictEntry] {
        func precedes(_ a: String, _ b: String) -> Bool {
            let negativeA = a.hasPrefix("-"), negativeB = b.hasPrefix("-")
            if negativeA != negativeB { return negativeA }
            let digitsA = a.utf8.drop { $0 == UInt8(ascii: "-") }, digitsB = b.utf8.drop { $0 == UInt8(ascii: "-") }
            let magnitudeLess = digitsA.count != digitsB.count ? digitsA.count < digitsB.count : digitsA.lexicographicallyPrecedes(digitsB)
            let magnitudeEqual = digitsA.elementsEqual(digitsB)
            return negativeA ? (!magnitudeLess && !magnitudeEqual) : magnitudeLess
        }
        let order = entries.indices.sorted { a, b in
            if entries[a].key == entries[b].key { return a < b }
            return precedes(entries[a].key, entries[b].key)
        }
        var result: [FlaskDictEntry] = []
        for position in order.indices {
            if position + 1 < order.count, entries[order[position + 1]].key == entries[order[position]].key { continue }
            result.append(entries[order[position]])
        }
        return result
    }

    /// Entries in Python's `sort_keys` order (Unicode code points, which is UTF-8 byte order), one
    /// per distinct key (the last one, as a Python dict keeps).
    static func sortedUnique(_ entries: [FlaskDictEntry]) -> [FlaskDictEntry] {
        if entries.count > 1, entries.allSatisfy(\.isIntegerKey) { return sortedNumerically(entries) }
        var ascending = true
        var index = 1
        while index < entries.count {
            if !entries[index - 1].key.utf8.lexicographicallyPrecedes(entries[index].key.utf8) {
                ascending = false
                break
            }
            index += 1
        }
        if ascending { return entries }
        let order = entries.indices.sorted { a, b in
            let keyA = entries[a].key.utf8, keyB = entries[b].key.utf8
            if keyA.elementsEqual(keyB) { return a < b }
            return keyA.lexicographicallyPrecedes(keyB)
        }
        var result: [FlaskDictEntry] = []
        result.reserveCapacity(entries.count)
        for position in order.indices {
            let entry = entries[order[position]]
            if position + 1 < order.count, entries[order[position + 1]].key.utf8.elementsEqual(entry.key.utf8) { continue }
            result.append(entry)
        }
        return result
    }

    /// A JSON string with `ensure_ascii=True` escapes: `\"`, `\\`, `\n \r \t \b \f`, and `\uXXXX`
    /// (lowercase; surrogate pairs above U+FFFF) for everything outside U+0020...U+007E.
    mutating func writeString(_ string: String) {
        output.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte < 0x80 {
                    switch byte {
                    case UInt8(ascii: "\""): output.append(contentsOf: "\\\"".utf8)
                    case UInt8(ascii: "\\"): output.append(contentsOf: "\\\\".utf8)
                    case 0x0a: output.append(contentsOf: "\\n".utf8)
                    case 0x0d: output.append(contentsOf: "\\r".utf8)
                    case 0x09: output.append(contentsOf: "\\t".utf8)
                    case 0x08: output.append(contentsOf: "\\b".utf8)
                    case 0x0c: output.append(contentsOf: "\\f".utf8)
                    case 0x20...0x7e: output.append(byte)
                    default: appendEscape(UInt32(byte))
                    }
                    index += 1
                    continue
                }
                // Valid UTF-8 (a Swift String): decode one scalar.
                var scalar: UInt32
                let length: Int
                if byte < 0xe0 {
                    scalar = UInt32(byte & 0x1f)
                    length = 2
                } else if byte < 0xf0 {
                    scalar = UInt32(byte & 0x0f)
                    length = 3
                } else {
                    scalar = UInt32(byte & 0x07)
                    length = 4
                }
                for offset in 1..<length { scalar = scalar << 6 | UInt32(bytes[index + offset] & 0x3f) }
                index += length
                if scalar >= 0x10000 {
                    let value = scalar - 0x10000
                    appendEscape(0xd800 | (value >> 10))
                    appendEscape(0xdc00 | (value & 0x3ff))
                } else {
                    appendEscape(scalar)
                }
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscape(_ unit: UInt32) {
        output.append(UInt8(ascii: "\\"))
        output.append(UInt8(ascii: "u"))
        output.append(Self.hexDigits[Int((unit >> 12) & 0xf)])
        output.append(Self.hexDigits[Int((unit >> 8) & 0xf)])
        output.append(Self.hexDigits[Int((unit >> 4) & 0xf)])
        output.append(Self.hexDigits[Int(unit & 0xf)])
    }

    private mutating func appendHex(_ uuid: UUID, dashes: Bool) {
        withUnsafeBytes(of: uuid.uuid) { bytes in
            for (index, byte) in bytes.enumerated() {
                if dashes && (index == 4 || index == 6 || index == 8 || index == 10) { output.append(UInt8(ascii: "-")) }
                output.append(Self.hexDigits[Int(byte >> 4)])
                output.append(Self.hexDigits[Int(byte & 0xf)])
            }
        }
    }

    private mutating func writeBigInt(_ digits: String) {
        let utf8 = digits.utf8
        let body = utf8.first == UInt8(ascii: "-") ? utf8.dropFirst() : utf8[...]
        let valid = !body.isEmpty && body.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            && (body.count == 1 || body.first != UInt8(ascii: "0"))
        if valid {
            output.append(contentsOf: utf8)
        } else {
            invalid = true
            output.append(contentsOf: "null".utf8)
        }
    }

    /// Python's `float.__repr__` (and the `NaN`/`Infinity` tokens); in plain mode the non-finite
    /// values are the strings `"NaN"`, `"Infinity"`, `"-Infinity"` that `JSONDecoder` can read.
    mutating func writeDouble(_ value: Double) {
        if !value.isFinite {
            let token = value.isNaN ? "NaN" : (value < 0 ? "-Infinity" : "Infinity")
            if tagged {
                output.append(contentsOf: token.utf8)
            } else {
                output.append(UInt8(ascii: "\""))
                output.append(contentsOf: token.utf8)
                output.append(UInt8(ascii: "\""))
            }
            return
        }
        Self.appendPythonRepr(value, into: &output)
    }

    /// `repr(float)`: the shortest round-trip digits (Swift's `description` finds the same ones),
    /// positional when the decimal exponent is in -4..<16, else `d.ddde±XX`.
    static func appendPythonRepr(_ value: Double, into output: inout [UInt8]) {
        var description = value.description
        var digits: [UInt8] = []
        digits.reserveCapacity(20)
        var exponent = 0
        var pointPosition: Int?
        var negative = false
        description.withUTF8 { text in
            var index = 0
            if text.first == UInt8(ascii: "-") {
                negative = true
                index = 1
            }
            while index < text.count {
                let byte = text[index]
                if byte == UInt8(ascii: ".") {
                    pointPosition = digits.count
                } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    var sign = 1
                    index += 1
                    if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
                        sign = text[index] == UInt8(ascii: "-") ? -1 : 1
                        index += 1
                    }
                    var magnitude = 0
                    while index < text.count {
                        magnitude = magnitude * 10 + Int(text[index] &- UInt8(ascii: "0"))
                        index += 1
                    }
                    exponent = sign * magnitude
                    break
                } else {
                    digits.append(byte)
                }
                index += 1
            }
        }
        // The value is 0.DIGITS x 10^decimalPoint after trimming zeros.
        var decimalPoint = (pointPosition ?? digits.count) + exponent
        var start = 0
        while start < digits.count && digits[start] == UInt8(ascii: "0") {
            start += 1
            decimalPoint -= 1
        }
        var end = digits.count
        while end > start && digits[end - 1] == UInt8(ascii: "0") { end -= 1 }
        if negative { output.append(UInt8(ascii: "-")) }
        if start == end {
            output.append(contentsOf: "0.0".utf8)
            return
        }
        let significant = digits[start..<end]
        let count = significant.count
        let scientific = decimalPoint - 1
        if scientific < -4 || scientific >= 16 {
            output.append(significant.first!)
            if count > 1 {
                output.append(UInt8(ascii: "."))
                output.append(contentsOf: significant.dropFirst())
            }
            output.append(UInt8(ascii: "e"))
            output.append(scientific < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            let magnitude = scientific.magnitude
            if magnitude < 10 { output.append(UInt8(ascii: "0")) }
            output.append(contentsOf: String(magnitude).utf8)
        } else if decimalPoint <= 0 {
            output.append(contentsOf: "0.".utf8)
            output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -decimalPoint))
            output.append(contentsOf: significant)
        } else if decimalPoint >= count {
            output.append(contentsOf: significant)
            output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: decimalPoint - count))
            output.append(contentsOf: ".0".utf8)
        } else {
            output.append(contentsOf: significant.prefix(decimalPoint))
            output.append(UInt8(ascii: "."))
            output.append(contentsOf: significant.dropFirst(decimalPoint))
        }
    }
}
