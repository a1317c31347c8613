import Testing
@testable import SessionKit

@Suite("Session")
struct SessionTests {
    @Test func setGetRemove() throws {
        let session = Session()
        #expect(session.isNew)
        session["username"] = "alice"
        #expect(session["username", as: String.self] == "alice")
        #expect(try session.require("username", as: String.self) == "alice")
        #expect(session.remove("username"))
        #expect(!session.remove("username"))
        #expect(throws: SessionError.self) { try session.require("username", as: String.self) }
    }
}
