import SessionKit

/// Flask's `session.get('n', 0) + 1` with Python's numbers: integers never overflow (past `Int.max`
/// they continue as big integers), floats add 1.0, and a value that is not a number starts over.
///
/// ```swift
/// DemoCounter.increment(.int(Int.max))   // .bigInt("9223372036854775808")
/// ```
package enum DemoCounter {
    package static func increment(_ value: FlaskValue?) -> FlaskValue {
        switch value {
        case .int(let n)?:
            let (sum, overflow) = n.addingReportingOverflow(1)
            return overflow ? .bigInt(addOne(toDecimal: String(n))) : .int(sum)
        case .bigInt(let digits)?:
            let next = addOne(toDecimal: digits)
            return Int(next).map(FlaskValue.int) ?? .bigInt(next)
        case .double(let d)?:
            return .double(d + 1)
        case .bool(let b)?:
            return .int(b ? 2 : 1)
        default:
            return .int(1)
        }
    }

    /// The number as Python's `str()` writes it.
    package static func text(_ value: FlaskValue) -> String {
        switch value {
        case .int(let n): return String(n)
        case .bigInt(let digits): return digits
        case .double(let d): return String(decoding: FlaskJSON.plainBytes(.double(d)), as: UTF8.self)
        default: return "1"
        }
    }

    /// Adds one to a decimal integer of any size (with an optional leading `-`).
    package static func addOne(toDecimal digits: String) -> String {
        if digits.hasPrefix("-") {
            // -x + 1 == -(x - 1)
            var magnitude = Array(digits.dropFirst().utf8)
            var index = magnitude.count - 1
            while index >= 0 {
                if magnitude[index] > UInt8(ascii: "0") { magnitude[index] -= 1; break }
                magnitude[index] = UInt8(ascii: "9")
                index -= 1
            }
            let trimmed = String(decoding: magnitude, as: UTF8.self).drop { $0 == "0" }
            return trimmed.isEmpty ? "0" : "-" + trimmed
        }
        var bytes = Array(digits.utf8)
        var index = bytes.count - 1
        while index >= 0 {
            if bytes[index] < UInt8(ascii: "9") { bytes[index] += 1; return String(decoding: bytes, as: UTF8.self) }
            bytes[index] = UInt8(ascii: "0")
            index -= 1
        }
        return "1" + String(decoding: bytes, as: UTF8.self)
    }
}
