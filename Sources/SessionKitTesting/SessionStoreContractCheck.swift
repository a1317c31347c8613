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
