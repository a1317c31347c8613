import Hummingbird
import SessionKitDemoSupport

extension DemoQuery {
    /// The query of a Hummingbird request, read as Flask reads `request.args`.
    init(_ request: Request) {
        self.init(query: request.uri.query ?? "")
    }
}
