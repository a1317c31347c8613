import ArgumentParser
import Foundation

/// Reads secrets from files, so that they need not be on the command line (where `ps` shows them)
/// or in the environment. Errors name the file, never its contents.
///
/// ```swift
/// let secret = try SecretFile.secret(at: "/run/secrets/sessionkit", option: "--secret-file")
/// ```
package enum SecretFile {
    /// The file's bytes without trailing newlines (`\n`, `\r\n`); throws when it is missing,
    /// unreadable or holds nothing else.
    package static func secret(at path: String, option: String) throws -> [UInt8] {
        var bytes = try contents(at: path, option: option)
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty else { throw ValidationError("\(option) \(path) is empty") }
        return bytes
    }

    /// The file's lines that are not blank (`\r` before `\n` removed), each one secret as text;
    /// throws when it is missing, unreadable or holds none.
    package static func secrets(at path: String, option: String) throws -> [String] {
        let bytes = try contents(at: path, option: option)
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: true).compactMap { line -> String? in
            var line = Array(line)
            while let last = line.last, last == 0x0D { line.removeLast() }
            return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
        }
        guard !lines.isEmpty else { throw ValidationError("\(option) \(path) is empty") }
        return lines
    }

    private static func contents(at path: String, option: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("\(option) \(path): no such file")
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("\(option) \(path): cannot read the file")
        }
        return Array(data)
    }
}
