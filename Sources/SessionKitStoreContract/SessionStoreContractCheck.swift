import SessionKit

/// One check of ``SessionStoreContract``: a name and an async function that throws a
/// ``ContractViolation`` when the store breaks the rule.
///
/// ```swift
/// @Test(arguments: SessionStoreContract.allChecks)
/// func contract(_ check: SessionStoreContractCheck) async throws {
///     try await check.run { clock in MemorySessionStore(clock: clock) }
/// }
/// ```
public struct SessionStoreContractCheck: Sendable, CustomStringConvertible {
    /// A short name, unique in ``SessionStoreContract/allChecks``.
    public let name: String
    let body: @Sendable (SessionStoreContractContext) async throws -> Void

    init(_ name: String, _ body: @escaping @Sendable (SessionStoreContractContext) async throws -> Void) {
        self.name = name
        self.body = body
    }

    /// Runs the check on stores made by `factory`, which gets the clock the store must use.
    public func run(_ factory: @escaping SessionStoreContract.Factory) async throws {
        try await body(SessionStoreContractContext(check: name, factory: factory))
    }

    public var description: String { name }
}

/// What a check works with: a fresh clock, the factory, and assertion helpers.
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

    /// Expects `body` to throw ``SessionStoreError`` with `code`.
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
