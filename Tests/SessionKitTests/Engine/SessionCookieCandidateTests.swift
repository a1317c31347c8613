import Foundation
import Logging
import Testing
@testable import SessionKit
import SessionKitTesting

/// A request may carry several cookies of the session's name (a parent domain's, an old path's):
/// by default the engine takes the first that verifies; Flask's defaults take only the first one.
/// Both for cookie sessions and for server-side session IDs, and values with and without quotes.
@Suite("Session cookie candidates")
struct SessionCookieCandidateTests {
    static let keys = try! KeyRing(current: SessionSecret(text: String(repeating: "candidate-test-secret-", count: 2)))
    static let now: Int64 = 1_700_000_000

    static func engine(_ storage: SessionEngine.Storage, everyCandidate: Bool) -> SessionEngine {
        var configuration = SessionConfiguration()
        configuration.tryEveryCookieCandidate = everyCandidate
        return SessionEngine(storage: storage, configuration: configuration, logger: Logger(label: "test"), clock: { now })
    }

    /// A cookie value that loads a session holding `user`.
    static func validValue(_ engine: SessionEngine, user: String) async throws -> String {
        let session = try await engine.load(from: RequestCookies())
        session["user"] = user
        return try #require(try await engine.commit(session).setCookies.first).value
    }

    static func loadedUser(_ engine: SessionEngine, _ header: String) async throws -> String? {
        try await engine.load(from: RequestCookies(header: header))["user", as: String.self]
    }

    @Test(arguments: [false, true])
    func cookieSessions(everyCandidate: Bool) async throws {
        let engine = Self.engine(.cookie(EncryptedSessionCodec(keys: Self.keys)), everyCandidate: everyCandidate)
        let valid = try await Self.validValue(engine, user: "ada")
        let other = try await Self.validValue(engine, user: "bob")
        #expect(try await Self.loadedUser(engine, "session=\(valid)") == "ada")
        #expect(try await Self.loadedUser(engine, "theme=dark; session=\(valid); lang=en") == "ada")
        #expect(try await Self.loadedUser(engine, "session=\"\(valid)\"") == "ada")            // one pair of quotes stripped
        #expect(try await Self.loadedUser(engine, "session=\(valid); session=\(other)") == "ada")
        // A first cookie that does not verify, or is empty: only the default looks further.
        let expected = everyCandidate ? "bob" : nil
        #expect(try await Self.loadedUser(engine, "session=garbage; session=\(other)") == expected)
        #expect(try await Self.loadedUser(engine, "session=; session=\(other)") == expected)
        #expect(try await Self.loadedUser(engine, "session=\(valid.dropLast(2)); other=x; session=\(other)") == expected)
        #expect(try await Self.loadedUser(engine, "sessions=\(valid); Session=\(valid)") == nil)  // names match exactly
    }

    @Test(arguments: [false, true])
    func serverSideSessionIDs(everyCandidate: Bool) async throws {
        let store = MemorySessionStore(clock: { Self.now })
        let engine = Self.engine(.server(store), everyCandidate: everyCandidate)
        let valid = try await Self.validValue(engine, user: "ada")
        let other = try await Self.validValue(engine, user: "bob")
        #expect(try await Self.loadedUser(engine, "session=\(valid)") == "ada")
        #expect(try await Self.loadedUser(engine, "session=\(valid); session=\(other)") == "ada")
        let expected = everyCandidate ? "bob" : nil
        #expect(try await Self.loadedUser(engine, "session=not-an-id; session=\(other)") == expected)
        #expect(try await Self.loadedUser(engine, "session=\(SessionID().cookieValue); session=\(other)") == expected)  // unknown ID
        #expect(try await Self.loadedUser(engine, "session=; session=\(other)") == expected)
    }

    /// 128 well-shaped but unknown IDs in one `Cookie` header cost at most
    /// ``SessionConfiguration/maximumStoreLookups`` store look-ups, not 128.
    @Test func storeLookupsPerRequestAreBounded() async throws {
        let store = FaultInjectingSessionStore(MemorySessionStore(clock: { Self.now }))
        let engine = Self.engine(.server(store), everyCandidate: true)
        let valid = try await Self.validValue(engine, user: "ada")
        store.resetCounts()
        let unknown = (0..<128).map { _ in "session=\(SessionID().cookieValue)" }
        #expect(try await Self.loadedUser(engine, unknown.joined(separator: "; ")) == nil)
        #expect(store.callCount(.load) == SessionConfiguration.maximumStoreLookups)
        #expect(SessionConfiguration.maximumStoreLookups == 3)
        // Malformed values cost no look-up and do not use up the allowance.
        store.resetCounts()
        let malformed = Array(repeating: "session=not-an-id", count: 100)
        #expect(try await Self.loadedUser(engine, (malformed + unknown.prefix(2) + ["session=\(valid)"]).joined(separator: "; ")) == "ada")
        #expect(store.callCount(.load) == 3)
        // A known ID behind the allowance is not reached.
        store.resetCounts()
        #expect(try await Self.loadedUser(engine, (unknown.prefix(3) + ["session=\(valid)"]).joined(separator: "; ")) == nil)
        #expect(store.callCount(.load) == 3)
    }

    /// A request carrying 128 rejected session cookies writes one log line, not 128: malformed IDs,
    /// unknown IDs, and cookies of a client-side format that do not verify.
    @Test func rejectedCandidatesAreLoggedOncePerRequest() async throws {
        let log = CountingLogHandler.Box()
        var logger = Logger(label: "test") { _ in CountingLogHandler(box: log) }
        logger.logLevel = .trace
        let configuration = SessionConfiguration()
        let server = SessionEngine(storage: .server(MemorySessionStore(clock: { Self.now })), configuration: configuration, logger: logger, clock: { Self.now })
        let client = SessionEngine(storage: .cookie(EncryptedSessionCodec(keys: Self.keys)), configuration: configuration, logger: logger, clock: { Self.now })
        let headers = [
            (0..<128).map { _ in "session=\(SessionID().cookieValue)" }.joined(separator: "; "),
            Array(repeating: "session=not-an-id", count: 128).joined(separator: "; "),
            (0..<128).map { "session=\($0 % 2 == 0 ? "x" : SessionID().cookieValue)" }.joined(separator: "; "),
        ]
        for header in headers {
            for engine in [server, client] {
                let before = log.count
                _ = try await engine.load(from: RequestCookies(header: header))
                #expect(log.count - before == 1, "\(log.messages[before...])")
            }
        }
        #expect(!log.messages.contains { $0.contains("not-an-id") })  // the log never echoes a value
    }
}
