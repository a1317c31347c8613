/// Why a Flask JSON text or tagged value could not be read. Never contains the input itself.
///
/// ```swift
/// do {
///     _ = try FlaskJSON.parse(Array("[1,".utf8))
/// } catch let error as FlaskJSONError {
///     print(error)   // "FlaskJSONError: unexpected end of input at byte 3"
/// }
/// ```
public struct FlaskJSONError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Reason: String, Sendable, Equatable {
        case invalidUTF8 = "invalid UTF-8"
        case byteOrderMark = "unexpected UTF-8 byte order mark"
        case unexpectedEnd = "unexpected end of input"
        case unexpectedCharacter = "unexpected character"
        case controlCharacter = "raw control character in a string"
        case invalidEscape = "invalid escape in a string"
        case tooDeep = "nesting too deep"
        case integerTooLong = "integer longer than 4300 digits"
        case extraData = "extra data after the value"
        case badTag = "a tagged value does not decode"
    }

    private let reason: Reason
    /// The byte offset where reading stopped, when the error is about a position in the text.
    public let offset: Int?

    private init(_ reason: Reason, offset: Int?) {
        self.reason = reason
        self.offset = offset
    }

    static func invalidUTF8(at offset: Int) -> Self { Self(.invalidUTF8, offset: offset) }
    static func byteOrderMark() -> Self { Self(.byteOrderMark, offset: 0) }
    static func unexpectedEnd(at offset: Int) -> Self { Self(.unexpectedEnd, offset: offset) }
    static func unexpectedCharacter(at offset: Int) -> Self { Self(.unexpectedCharacter, offset: offset) }
    static func controlCharacter(at offset: Int) -> Self { Self(.controlCharacter, offset: offset) }
    static func invalidEscape(at offset: Int) -> Self { Self(.invalidEscape, offset: offset) }
    static func tooDeep(at offset: Int) -> Self { Self(.tooDeep, offset: offset) }
    static func integerTooLong(at offset: Int) -> Self { Self(.integerTooLong, offset: offset) }
    static func extraData(at offset: Int) -> Self { Self(.extraData, offset: offset) }
    static func badTag() -> Self { Self(.badTag, offset: nil) }

    public var description: String {
        if let offset { return "FlaskJSONError: \(reason.rawValue) at byte \(offset)" }
        return "FlaskJSONError: \(reason.rawValue)"
    }
}
