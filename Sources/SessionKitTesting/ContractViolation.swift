/// A store broke a rule of ``SessionStoreContract``: which check, what was expected, and where.
///
/// ```swift
/// do { try await check.run(factory) } catch let violation as ContractViolation { print(violation) }
/// ```
public struct ContractViolation: Error, Sendable, CustomStringConvertible {
    /// The check that failed.
    public var check: String
    /// What went wrong.
    public var message: String
    /// The line of the contract source that failed.
    public var line: UInt

    public init(check: String, message: String, line: UInt) {
        self.check = check
        self.message = message
        self.line = line
    }

    public var description: String { "store contract '\(check)' violated (SessionStoreContract line \(line)): \(message)" }
}
