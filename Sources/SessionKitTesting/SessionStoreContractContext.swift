import SessionKit

/// What a check works with: a fresh clock, the factory, and assertion helpers.
///
/// ```swift
/// let store = try await context.makeStore()
/// try context.expect(try await store.load(key) == nil, "load of an unknown key must be nil")
/// ```
struct SessionStoreContractContext: Sendable {
    let check: String
    let factory: SessionStoreContract.Factory
    let clock = ContractClock()

    var now: Int64 { clock.now }

    func makeStore() async throws -> any SessionStore {
        try await factory(clock.function)
    }

    func expect(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) throws {
        if !condition { throw ContractViolation(check: check, message: message(), line: line) }
    }

    func fail(_ message: String, line: UInt = #line) -> ContractViolation {
        ContractViolation(check: check, message: message, line: line)
    }

    /// Expects `body` to throw ``/SessionKit/SessionStoreError`` with `code`.
    func expectStoreError(
        _ code: SessionStoreError.Code, _ what: String, line: UInt = #line, _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
        } catch let error as SessionStoreError where error.code == code {
            return
        } catch {
            throw ContractViolation(check: check, message: "\(what): expected SessionStoreError.\(code), got \(error)", line: line)
        }
        throw ContractViolation(check: check, message: "\(what): expected SessionStoreError.\(code), nothing was thrown", line: line)
    }
}
