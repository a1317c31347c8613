import Foundation
import Hummingbird
import SessionKitDemoSupport

/// A submitted `application/x-www-form-urlencoded` form.
///
/// ```swift
/// let form = try await DemoForm(request: request)
/// let username = form["username"] ?? ""
/// ```
struct DemoForm: Sendable {
    private let fields: DemoQuery

    init(request: Request) async throws {
        let body = try await request.body.collect(upTo: 64 * 1024)
        fields = DemoQuery(query: String(buffer: body))
    }

    subscript(name: String) -> String? {
        fields[name]
    }
}
