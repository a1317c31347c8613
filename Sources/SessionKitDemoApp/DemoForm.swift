import Foundation
import Hummingbird

/// A submitted `application/x-www-form-urlencoded` form.
///
/// ```swift
/// let form = try await DemoForm(request: request)
/// let username = form["username"] ?? ""
/// ```
struct DemoForm: Sendable {
    private var fields: [(String, String)] = []

    init(request: Request) async throws {
        let body = try await request.body.collect(upTo: 64 * 1024)
        let text = String(buffer: body)
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            fields.append((name, value))
        }
    }

    subscript(name: String) -> String? {
        fields.first { $0.0 == name }?.1
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
