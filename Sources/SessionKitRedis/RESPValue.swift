import NIOCore

/// One RESP2 reply from a Redis server: what ``RESPParser`` decodes.
///
/// Bulk strings are binary-safe slices of the bytes read (`nil` for the null bulk string `$-1`);
/// arrays are `nil` for the null array `*-1`. Error replies are values, not thrown errors: the
/// caller decides what an error means.
///
/// ```swift
/// let reply = try await pool.send(RedisCommand("HGET", "key", "field"))
/// if case .bulkString(let bytes?) = reply { print(String(buffer: bytes)) }
/// ```
package enum RESPValue: Sendable, Equatable {
    /// `+OK\r\n`
    case simpleString(String)
    /// `-ERR message\r\n`
    case error(String)
    /// `:42\r\n`
    case integer(Int64)
    /// `$3\r\nabc\r\n`, or `nil` for `$-1\r\n`.
    case bulkString(ByteBuffer?)
    /// `*2\r\n...`, or `nil` for `*-1\r\n`.
    case array([RESPValue]?)

    /// The bytes of a bulk or simple string; `nil` for anything else (and for null).
    package var bytes: ByteBuffer? {
        switch self {
        case .bulkString(let buffer): return buffer
        case .simpleString(let string): return ByteBuffer(string: string)
        default: return nil
        }
    }

    /// The text of a bulk or simple string (UTF-8, invalid bytes repaired).
    package var string: String? {
        switch self {
        case .bulkString(let buffer?): return String(buffer: buffer)
        case .simpleString(let string): return string
        default: return nil
        }
    }

    /// An integer reply, or a bulk string holding a decimal integer.
    package var int64: Int64? {
        switch self {
        case .integer(let value): return value
        case .bulkString(let buffer?): return Int64(String(buffer: buffer))
        default: return nil
        }
    }

    /// The elements of a (non-null) array.
    package var array: [RESPValue]? {
        if case .array(let elements?) = self { return elements }
        return nil
    }

    /// Whether this is the null bulk string or the null array.
    package var isNull: Bool {
        switch self {
        case .bulkString(nil), .array(nil): return true
        default: return false
        }
    }
}
