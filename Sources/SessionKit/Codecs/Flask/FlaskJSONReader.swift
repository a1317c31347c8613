/// Reads JSON text as Python's `json.loads` does (what Flask's session reader accepts): whitespace
/// anywhere between tokens, any key order, raw UTF-8, duplicate keys (the last value wins, at the
/// first key's position), `NaN`/`Infinity`/`-Infinity`, integers of any size (up to Python's
/// 4300-digit limit). Strict like Python: no raw control characters in strings, valid UTF-8 only, no
/// byte order mark, no trailing commas. Nesting is limited so that hostile input cannot exhaust the
/// stack; no input traps.
///
/// A lone surrogate escape (`"\ud800"`), which Python keeps in its `str`, becomes U+FFFD because a
/// Swift `String` cannot hold it.
///
/// ```swift
/// let value = try FlaskJSONReader.parse(Array(#"{"a": [1, 2.5, NaN]}"#.utf8))
/// ```
struct FlaskJSONReader {
    /// The default limit on nested arrays and objects.
    static let defaultMaxDepth = 128

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    private let maxDepth: Int

    private init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Parses a whole document: one value with optional whitespace around it.
    static func parse(_ text: some Collection<UInt8>, maxDepth: Int = defaultMaxDepth) throws(FlaskJSONError) -> FlaskValue {
        let result: Result<FlaskValue, FlaskJSONError>? = text.withContiguousStorageIfAvailable { parse(buffer: $0, maxDepth: maxDepth) }
        if let result { return try result.get() }
        return try Array(text).withUnsafeBufferPointer { parse(buffer: $0, maxDepth: maxDepth) }.get()
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) -> Result<FlaskValue, FlaskJSONError> {
        if let bad = firstInvalidUTF8(buffer) { return .failure(.invalidUTF8(at: bad)) }
        if buffer.count >= 3 && buffer[0] == 0xef && buffer[1] == 0xbb && buffer[2] == 0xbf { return .failure(.byteOrderMark()) }
        var reader = FlaskJSONReader(bytes: buffer, maxDepth: maxDepth)
        do {
            reader.skipWhitespace()
            let value = try reader.parseValue()
            reader.skipWhitespace()
            if reader.index != buffer.count { return .failure(.extraData(at: reader.index)) }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    /// The offset of the first byte that is not part of well-formed UTF-8 (Python's strict codec:
    /// no overlong forms, no surrogates, nothing above U+10FFFF), or `nil`.
    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var lower: UInt8 = 0x80, upper: UInt8 = 0xbf
            switch byte {
            case 0xc2...0xdf: length = 2
            case 0xe0: length = 3; lower = 0xa0
            case 0xe1...0xec, 0xee...0xef: length = 3
            case 0xed: length = 3; upper = 0x9f
            case 0xf0: length = 4; lower = 0x90
            case 0xf1...0xf3: length = 4
            case 0xf4: length = 4; upper = 0x8f
            default: return index
            }
            guard index + length <= count else { return index }
            let second = bytes[index + 1]
            guard second >= lower && second <= upper else { return index }
            for offset in 2..<max(length, 2) where bytes[index + offset] & 0xc0 != 0x80 { return index }
            index += length
        }
        return nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0a, 0x0d: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(FlaskJSONError) -> FlaskValue {
        guard index < bytes.count else { throw .unexpectedEnd(at: index) }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "N"):
            try expectLiteral("NaN")
            return .double(.nan)
        case UInt8(ascii: "I"):
            try expectLiteral("Infinity")
            return .double(.infinity)
        case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "I"):
            try expectLiteral("-Infinity")
            return .double(-.infinity)
        default:
            return try parseNumber()
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(FlaskJSONError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw .unexpectedCharacter(at: index) }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            throw .unexpectedCharacter(at: index)
        }
        index += count
    }

    private mutating func enter() throws(FlaskJSONError) {
        depth += 1
        if depth > maxDepth { throw .tooDeep(at: index) }
    }

    private mutating func parseArray() throws(FlaskJSONError) -> FlaskValue {
        try enter()
        index += 1
        var items: [FlaskValue] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .list(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw .unexpectedEnd(at: index) }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "]") { break }
            guard byte == UInt8(ascii: ",") else { throw .unexpectedCharacter(at: index - 1) }
        }
        depth -= 1
        return .list(items)
    }

    private mutating func parseObject() throws(FlaskJSONError) -> FlaskValue {
        try enter()
        index += 1
        var entries: [FlaskDictEntry] = []
        var positions: [[UInt8]: Int]?
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .dict(entries)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw .unexpectedEnd(at: index) }
            guard bytes[index] == UInt8(ascii: "\"") else { throw .unexpectedCharacter(at: index) }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count else { throw .unexpectedEnd(at: index) }
            guard bytes[index] == UInt8(ascii: ":") else { throw .unexpectedCharacter(at: index) }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            // A duplicate key keeps its first position and takes the last value (Python's dict).
            // Keys compare by code points, not by Swift's canonical equivalence.
            if entries.count < 16 {
                if let existing = entries.firstIndex(where: { $0.key.utf8.elementsEqual(key.utf8) }) {
                    entries[existing].value = value
                } else {
                    entries.append(FlaskDictEntry(key, value))
                }
            } else {
                if positions == nil {
                    positions = Dictionary(entries.enumerated().map { (Array($0.element.key.utf8), $0.offset) }, uniquingKeysWith: { a, _ in a })
                }
                let keyBytes = Array(key.utf8)
                if let existing = positions![keyBytes] {
                    entries[existing].value = value
                } else {
                    positions![keyBytes] = entries.count
                    entries.append(FlaskDictEntry(key, value))
                }
            }
            skipWhitespace()
            guard index < bytes.count else { throw .unexpectedEnd(at: index) }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "}") { break }
            guard byte == UInt8(ascii: ",") else { throw .unexpectedCharacter(at: index - 1) }
        }
        depth -= 1
        return .dict(entries)
    }

    /// A string starting at the opening quote; the text is known to be valid UTF-8.
    private mutating func parseString() throws(FlaskJSONError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let string = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw .controlCharacter(at: index) }
            index += 1
        }
        guard index < bytes.count else { throw .unexpectedEnd(at: index) }
        var buffer = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: buffer, as: UTF8.self)
            }
            if byte < 0x20 { throw .controlCharacter(at: index) }
            if byte != UInt8(ascii: "\\") {
                buffer.append(byte)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { throw .unexpectedEnd(at: index) }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escape)
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0c)
            case UInt8(ascii: "n"): buffer.append(0x0a)
            case UInt8(ascii: "r"): buffer.append(0x0d)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                var unit = try readHex4()
                if (0xd800...0xdbff).contains(unit), index + 1 < bytes.count,
                   bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                    // Python reads the next \uXXXX (an invalid one is an error) and pairs it if it
                    // is a low surrogate; otherwise it is read again as its own escape.
                    let save = index
                    index += 2
                    let low = try readHex4()
                    if (0xdc00...0xdfff).contains(low) {
                        unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
                    } else {
                        index = save
                    }
                }
                let scalar = Unicode.Scalar(unit) ?? "\u{FFFD}"
                buffer.append(contentsOf: UTF8.encode(scalar)!)
            default:
                throw .invalidEscape(at: index - 1)
            }
        }
        throw .unexpectedEnd(at: index)
    }

    private mutating func readHex4() throws(FlaskJSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw .invalidEscape(at: index) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw .invalidEscape(at: index)
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`: an integer without fraction or exponent,
    /// else a float (Python's `float()`, which overflows to infinity).
    private mutating func parseNumber() throws(FlaskJSONError) -> FlaskValue {
        let start = index
        if index < bytes.count && bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw .unexpectedEnd(at: index) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(at: index) {
            while isDigit(at: index) { index += 1 }
        } else {
            throw .unexpectedCharacter(at: index)
        }
        let integerEnd = index
        var isFloat = false
        if index + 1 < bytes.count && bytes[index] == UInt8(ascii: ".") && isDigit(at: index + 1) {
            index += 1
            while isDigit(at: index) { index += 1 }
            isFloat = true
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            var exponentIndex = index + 1
            if exponentIndex < bytes.count && (bytes[exponentIndex] == UInt8(ascii: "-") || bytes[exponentIndex] == UInt8(ascii: "+")) {
                exponentIndex += 1
            }
            if isDigit(at: exponentIndex) {
                index = exponentIndex
                while isDigit(at: index) { index += 1 }
                isFloat = true
            }
        }
        let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
        if isFloat {
            return .double(Double(String(decoding: text, as: UTF8.self)) ?? .nan)
        }
        let negative = bytes[start] == UInt8(ascii: "-")
        let digitCount = integerEnd - start - (negative ? 1 : 0)
        if digitCount <= 18 {
            var value = 0
            for byte in text where byte != UInt8(ascii: "-") { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
            return .int(negative ? -value : value)
        }
        if digitCount > 4300 { throw .integerTooLong(at: start) }
        let string = String(decoding: text, as: UTF8.self)
        if let value = Int(string) { return .int(value) }
        return .bigInt(string)
    }

    private func isDigit(at position: Int) -> Bool {
        position < bytes.count && bytes[position] >= UInt8(ascii: "0") && bytes[position] <= UInt8(ascii: "9")
    }
}
