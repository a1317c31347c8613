import ArgumentParser
import SessionKit

/// Secrets from files, so that they need not be on the command line (where `ps` shows them) or in
/// the environment: the core's ``SessionSecret/init(contentsOfFile:)`` and
/// ``SessionSecret/list(contentsOfFile:)``, with the option or variable that named the file in
/// front of the error, as a usage error. Errors name the file, never its contents.
///
/// ```swift
/// let secret = try SecretFile.secret(at: "/run/secrets/sessionkit", option: "--secret-file")
/// ```
package enum SecretFile {
    /// The file's secret (its bytes without trailing line breaks).
    package static func secret(at path: String, option: String) throws -> SessionSecret {
        try usage(option) { try SessionSecret(contentsOfFile: path) }
    }

    /// The file's secrets, one a line, blank lines skipped.
    package static func secrets(at path: String, option: String) throws -> [SessionSecret] {
        try usage(option) { try SessionSecret.list(contentsOfFile: path) }
    }

    private static func usage<Value>(_ option: String, _ read: () throws -> Value) throws -> Value {
        do {
            return try read()
        } catch let error as SessionError {
            throw ValidationError("\(option): \(error.message)")
        }
    }
}
