import Foundation
import Testing
@testable import SessionKit

/// The engine validates the session cookie's fixed attributes once and writes each cookie from
/// that template: the same bytes as a `SetCookie` built and validated in full, and the same errors.
@Suite("Session cookie template")
struct SessionCookieTemplateTests {
    static let keys = try! KeyRing(current: SessionSecret(text: String(repeating: "template-test-secret-", count: 2)))

    static func engine(_ change: (inout SessionConfiguration.CookieAttributes) -> Void) -> SessionEngine {
        var configuration = SessionConfiguration()
        change(&configuration.cookie)
        return SessionEngine(codec: EncryptedSessionCodec(keys: keys), configuration: configuration, clock: { 1_700_000_000 })
    }

    @Test(arguments: [nil, "example.com"], [false, true])
    func writesWhatAFullyValidatedCookieWrites(domain: String?, permanent: Bool) throws {
        let engine = Self.engine {
            $0.domain = domain
            $0.path = "/app"
            $0.sameSite = .strict
            $0.partitioned = true
        }
        let expires: Int64? = permanent ? 1_800_000_000 : nil
        let fromTemplate = try engine.sessionCookie(value: "abc.DEF-_", expires: expires)
        let full = try SetCookie(
            name: "session", value: "abc.DEF-_", expires: expires.map(SessionClock.date), domain: domain, path: "/app",
            secure: true, httpOnly: true, sameSite: .strict, partitioned: true
        )
        #expect(fromTemplate == full)
        #expect(fromTemplate.headerValue == full.headerValue)
    }

    @Test func checksEachValueAndDate() throws {
        let engine = Self.engine { _ in }
        #expect(throws: CookieError.self) { try engine.sessionCookie(value: "a b", expires: nil) }
        #expect(throws: CookieError.self) { try engine.sessionCookie(value: String(repeating: "a", count: 4090), expires: nil) }
        #expect(throws: CookieError.self) { try engine.sessionCookie(value: "ok", expires: 300_000_000_000) }
        #expect(throws: Never.self) { try engine.sessionCookie(value: String(repeating: "a", count: 4089), expires: nil) }
    }

    @Test func anInvalidConfigurationStillThrowsAtCommit() async throws {
        let engine = Self.engine { $0.path = "no-slash" }
        let session = Session()
        session["user"] = "alice"
        await #expect(throws: CookieError.self) { try await engine.commit(session) }
    }
}
