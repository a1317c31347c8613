import Foundation

/// A value as Flask's tagged JSON serializer sees it: JSON's types plus the tagged ones
/// (tuple, bytes, Markup, UUID, datetime).
///
/// Values that came from a Flask cookie keep their exact type, so a Swift service that changes one
/// key writes every other key back as Flask wrote it (a tuple stays a tuple, bytes stay bytes).
///
/// ```swift
/// let flashes: FlaskValue = .list([.tuple([.string("message"), .string("Hello")])])
/// session.setFlaskValue(flashes, for: "_flashes")
/// ```
public indirect enum FlaskValue: Sendable, Equatable {
    case string(String)
    /// An integer that fits in `Int`.
    case int(Int)
    /// An integer outside `Int`'s range, as its decimal digits (with a leading `-` when negative).
    case bigInt(String)
    case double(Double)
    case bool(Bool)
    case null
    case list([FlaskValue])
    case tuple([FlaskValue])
    /// An object, with its entries in the order they were read or inserted.
    case dict([FlaskDictEntry])
    case bytes([UInt8])
    case markup(String)
    case uuid(UUID)
    /// A `datetime`, in whole seconds since 1970 UTC (Flask drops microseconds).
    case datetime(Int64)

    public static func == (lhs: FlaskValue, rhs: FlaskValue) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case let (.int(a), .int(b)): return a == b
        case let (.bigInt(a), .bigInt(b)): return a == b
        case let (.double(a), .double(b)): return a.bitPattern == b.bitPattern || a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        case let (.list(a), .list(b)): return a == b
        case let (.tuple(a), .tuple(b)): return a == b
        case let (.dict(a), .dict(b)): return a == b
        case let (.bytes(a), .bytes(b)): return a == b
        case let (.markup(a), .markup(b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case let (.uuid(a), .uuid(b)): return a == b
        case let (.datetime(a), .datetime(b)): return a == b
        default: return false
        }
    }
}

/// One key and value of a ``FlaskValue/dict(_:)``.
public struct FlaskDictEntry: Sendable, Equatable {
    public var key: String
    public var value: FlaskValue
    /// The key was a Python `int` (its decimal digits in ``key``). JSON keys are strings, so this
    /// only matters when writing: Python sorts int keys numerically before stringifying them
    /// (`{10: a, 2: b}` is written `{"2":b,"10":a}`). Reading gives string keys, as Flask does.
    public var isIntegerKey: Bool

    public init(_ key: String, _ value: FlaskValue) {
        self.key = key
        self.value = value
        self.isIntegerKey = false
    }

    /// An entry whose key is the Python integer `key`.
    public init(integerKey key: String, _ value: FlaskValue) {
        self.key = key
        self.value = value
        self.isIntegerKey = true
    }

    public static func == (lhs: FlaskDictEntry, rhs: FlaskDictEntry) -> Bool {
        lhs.key.unicodeScalars.elementsEqual(rhs.key.unicodeScalars) && lhs.value == rhs.value
    }
}
