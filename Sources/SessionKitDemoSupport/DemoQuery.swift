import Foundation

/// A query string read as Flask reads `request.args`: `+` is a space, percent escapes are UTF-8,
/// the first value of a repeated name wins.
///
/// ```swift
/// let value = DemoQuery(query: "value=a+b")["value"]   // "a b"
/// ```
package struct DemoQuery: Sendable {
    private var fields: [(String, String)] = []

    package init(query: String) {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            fields.append((Self.decode(parts[0]), parts.count > 1 ? Self.decode(parts[1]) : ""))
        }
    }

    package subscript(name: String) -> String? {
        fields.first { $0.0 == name }?.1
    }

    /// `+` to space, then percent-decoding; an invalid escape is kept as written.
    package static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
