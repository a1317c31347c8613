#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The cookies of one request, read from its `Cookie` header(s) in one pass over the UTF-8 bytes.
///
/// Only byte ranges are stored; a `String` is made when a name or value is asked for. Every value of
/// a repeated name is kept, in header order (a browser sends the most specific path first).
///
/// ```swift
/// let cookies = RequestCookies(header: "session=abc; theme=dark; session=old")
/// cookies["session"]          // "abc" (the first value, as Flask's request.cookies["session"])
/// cookies.all("session")      // ["abc", "old"]
/// for (name, value) in cookies { print(name, value) }
///
/// // HTTP/2 may split the header into several fields: they are joined with ";".
/// let joined = RequestCookies(headers: ["a=1; b=2", "c=3"])
/// ```
///
/// Parsing never fails: a pair with an empty name (`=v`, `;;`) is skipped and the rest is kept; a pair
/// without `=` (`flag`) has the value `""`. Past `limits` the rest of the header is ignored (see
/// `CookieLimits`). Names are compared byte for byte (case-sensitive, no Unicode normalization).
public struct RequestCookies: Sendable, RandomAccessCollection {
    struct Span: Sendable, Hashable {
        var nameStart: Int
        var nameEnd: Int
        var valueStart: Int
        var valueEnd: Int
        /// `.werkzeug` only: the value is a quoted string whose inside needs unslashing.
        var unslash: Bool
    }

    /// The header that was parsed (joined with `;` when several fields were given).
    public let header: String
    /// How values were read.
    public let decoding: CookieValueDecoding
    let spans: [Span]

    /// Parses one `Cookie` header value.
    public init(header: String, limits: CookieLimits = .default, decoding: CookieValueDecoding = .standard) {
        var header = header
        header.makeContiguousUTF8()
        self.header = header
        self.decoding = decoding
        self.spans = header.utf8.withContiguousStorageIfAvailable { buffer in
            Self.parse(buffer, limits: limits, decoding: decoding)
        } ?? Array(header.utf8).withUnsafeBufferPointer { Self.parse($0, limits: limits, decoding: decoding) }
    }

    /// Parses several `Cookie` header fields (HTTP/2 sends one per cookie), joined with `;` as
    /// Werkzeug does.
    public init(headers: some Sequence<String>, limits: CookieLimits = .default, decoding: CookieValueDecoding = .standard) {
        var joined = ""
        var first = true
        for field in headers {
            if !first { joined.append(";") }
            joined.append(field)
            first = false
        }
        self.init(header: joined, limits: limits, decoding: decoding)
    }

    /// An empty set of cookies.
    public init() {
        self.init(header: "")
    }

    // MARK: - Lookup

    /// The first value of a cookie, or nil.
    public subscript(name: String) -> String? { first(name) }

    /// The first value of a cookie, or nil.
    public func first(_ name: String) -> String? {
        guard let index = firstIndex(named: name) else { return nil }
        return value(at: index)
    }

    /// Every value of a cookie, in header order.
    public func all(_ name: String) -> [String] {
        var result: [String] = []
        for index in spans.indices where nameEquals(index, name) {
            result.append(value(at: index))
        }
        return result
    }

    /// Whether a cookie of that name was sent.
    public func contains(_ name: String) -> Bool { firstIndex(named: name) != nil }

    /// All pairs, in header order.
    public var pairs: [(name: String, value: String)] { Array(self) }

    /// The distinct names, in order of first appearance.
    public var names: [String] {
        var seen = Set<String>()
        var result: [String] = []
        for index in spans.indices {
            let name = self.name(at: index)
            if seen.insert(name).inserted { result.append(name) }
        }
        return result
    }

    // MARK: - RandomAccessCollection

    public typealias Element = (name: String, value: String)
    public var startIndex: Int { 0 }
    public var endIndex: Int { spans.count }
    public subscript(position: Int) -> (name: String, value: String) {
        (name(at: position), value(at: position))
    }

    // MARK: - Byte access

    private func firstIndex(named name: String) -> Int? {
        spans.indices.first { nameEquals($0, name) }
    }

    private func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = header.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(header.utf8).withUnsafeBufferPointer(body)
    }

    private func nameEquals(_ index: Int, _ name: String) -> Bool {
        let span = spans[index]
        guard span.nameEnd - span.nameStart == name.utf8.count else { return false }
        return withBytes { bytes in
            var i = span.nameStart
            for byte in name.utf8 {
                if bytes[i] != byte { return false }
                i += 1
            }
            return true
        }
    }

    func name(at index: Int) -> String {
        let span = spans[index]
        return withBytes { String(decoding: UnsafeBufferPointer(rebasing: $0[span.nameStart..<span.nameEnd]), as: UTF8.self) }
    }

    /// Every value of a cookie as a slice of ``header``, in header order, without copying it (a
    /// quoted Werkzeug value that needs unslashing is made anew). The engine reads the session
    /// cookie this way: a 350-byte value is not copied into a `String` of its own first.
    func valueSlices(named name: String) -> LazyMapSequence<LazyFilterSequence<Range<Int>>, Substring> {
        spans.indices.lazy.filter { nameEquals($0, name) }.map { valueSlice(at: $0) }
    }

    func valueSlice(at index: Int) -> Substring {
        let span = spans[index]
        if span.unslash { return Substring(value(at: index)) }
        // Span bounds sit next to ASCII separators, so they are scalar boundaries; offsets into
        // the header's contiguous UTF-8 are O(1).
        let utf8 = header.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: span.valueStart)
        let end = utf8.index(start, offsetBy: span.valueEnd - span.valueStart)
        return header[start..<end]
    }

    func value(at index: Int) -> String {
        let span = spans[index]
        return withBytes { bytes in
            let slice = UnsafeBufferPointer(rebasing: bytes[span.valueStart..<span.valueEnd])
            if span.unslash { return Self.unslash(slice) }
            return String(decoding: slice, as: UTF8.self)
        }
    }

    // MARK: - Parsing

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, limits: CookieLimits, decoding: CookieValueDecoding) -> [Span] {
        // One allocation for typical headers (counting the `;` first costs more than it saves).
        var spans: [Span] = []
        spans.reserveCapacity(Swift.min(limits.maxPairs, 8))
        switch decoding.base {
        case .standard: parseStandard(bytes, limits: limits, into: &spans)
        case .werkzeug: parseWerkzeug(bytes, limits: limits, into: &spans)
        }
        return spans
    }

    /// RFC 6265: `name=value` pairs split on `;` only; spaces and tabs trimmed; one pair of outer
    /// double quotes stripped.
    static func parseStandard(_ bytes: UnsafeBufferPointer<UInt8>, limits: CookieLimits, into spans: inout [Span]) {
        let limit = Swift.min(bytes.count, limits.maxHeaderBytes)
        let truncated = bytes.count > limit
        var i = 0
        while i < limit, spans.count < limits.maxPairs {
            // The pair's end and its first "=" by memchr (vectorized): a session cookie's value is
            // hundreds of bytes, and a loop over them was a measured twentieth of a cookie /read.
            let end = firstIndex(of: UInt8(ascii: ";"), in: bytes, from: i, to: limit) ?? limit
            let equals = firstIndex(of: UInt8(ascii: "="), in: bytes, from: i, to: end) ?? -1
            if end == limit, truncated, bytes[limit] != UInt8(ascii: ";") { break } // cut by the byte limit: dropped whole
            var nameStart = i
            var nameEnd = equals >= 0 ? equals : end
            trimOWS(bytes, &nameStart, &nameEnd)
            if nameStart < nameEnd {
                var valueStart = equals >= 0 ? equals + 1 : end
                var valueEnd = end
                trimOWS(bytes, &valueStart, &valueEnd)
                if valueEnd - valueStart >= 2, bytes[valueStart] == UInt8(ascii: "\""), bytes[valueEnd - 1] == UInt8(ascii: "\"") {
                    valueStart += 1
                    valueEnd -= 1
                }
                spans.append(Span(nameStart: nameStart, nameEnd: nameEnd, valueStart: valueStart, valueEnd: valueEnd, unslash: false))
            }
            i = end + 1
        }
    }

    /// The first index of `byte` in `bytes[from..<to]`.
    private static func firstIndex(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard from < to, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + from, Int32(byte), to - from) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    private static func trimOWS(_ bytes: UnsafeBufferPointer<UInt8>, _ start: inout Int, _ end: inout Int) {
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
    }
}
