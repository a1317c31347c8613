import Hummingbird
import HummingbirdAuth
import SessionKitHummingbird

/// A user of the test app.
struct TestUser: Sendable, Equatable {
    var id: String
    var name: String
}

/// An app's own context, as the README shows it: a SessionKit session and HummingbirdAuth's
/// identity, in a file that imports both SessionKitHummingbird and HummingbirdAuth.
struct AppContext: SessionKitRequestContext, AuthRequestContext {
    var coreContext: CoreRequestContextStorage
    var sessionState = SessionRequestState()
    var identity: TestUser?

    init(source: Source) {
        self.coreContext = .init(source: source)
    }
}
