import Hummingbird
import HummingbirdAuth
import SessionKit
import SessionKitHummingbird
import SessionKitHummingbirdAuth
import Testing

/// SessionKit's Hummingbird names beside HummingbirdAuth's, unqualified, in one file that imports
/// both: this file compiling is most of the test.
@Suite("Names beside HummingbirdAuth")
struct HummingbirdAuthNameTests {
    /// SessionKit's middleware written as a type, for an app's own context.
    static func sessionKitMiddleware(store: any SessionStore) throws -> SessionKitMiddleware<AppContext> {
        try SessionKitMiddleware<AppContext>(store: store)
    }

    /// HummingbirdAuth's session types, with their own names.
    typealias PeerContext = BasicSessionRequestContext<String, String>

    @Test func bothLibrariesNamesResolve() throws {
        let middleware: SessionKitMiddleware<AppContext> = try Self.sessionKitMiddleware(store: MemorySessionStore())
        let router = Router(context: AppContext.self)
        router.add(middleware: middleware)
        router.add(middleware: IsAuthenticatedMiddleware<AppContext>())

        let basic = Router(context: BasicSessionKitRequestContext.self)
        basic.add(middleware: try SessionKitMiddleware<BasicSessionKitRequestContext>(secret: SessionSecret(text: String(repeating: "names-secret-", count: 3))))

        let peer = Router(context: PeerContext.self)
        peer.add(middleware: SessionMiddleware<PeerContext>(storage: MemoryPersistDriver()))

        #expect(Self.isSessionKitContext(AppContext.self))
        #expect(Self.isSessionKitContext(BasicSessionKitRequestContext.self))
        #expect(Self.isHummingbirdAuthSessionContext(PeerContext.self))
    }

    static func isSessionKitContext<Context: SessionKitRequestContext>(_: Context.Type) -> Bool { true }
    static func isHummingbirdAuthSessionContext<Context: SessionRequestContext>(_: Context.Type) -> Bool { true }
}
