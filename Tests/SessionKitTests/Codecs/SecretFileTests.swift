import Foundation
import Testing
import SessionKit

/// `SessionSecret(contentsOfFile:)` and `SessionSecret.list(contentsOfFile:)`: secrets from files,
/// errors that name the file and never its contents.
@Suite("Secrets from files")
struct SecretFileTests {
    static func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sessionkit-secret-\(UInt64.random(in: 0 ... .max))").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("one secret: trailing line breaks removed, inner bytes kept")
    func oneSecret() throws {
        let path = try Self.write("a secret with spaces and = signs\r\n\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let secret = try SessionSecret(contentsOfFile: path)
        #expect(secret.bytes == Array("a secret with spaces and = signs".utf8))
    }

    @Test("a list: one a line, blank lines and CRs skipped, order kept")
    func list() throws {
        let path = try Self.write("newest\r\n\nolder\n  \noldest")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let secrets = try SessionSecret.list(contentsOfFile: path)
        #expect(secrets.map { String(decoding: $0.bytes, as: UTF8.self) } == ["newest", "older", "  ", "oldest"])
    }

    @Test("missing, empty and directory paths are configuration errors naming the file only")
    func errors() throws {
        let empty = try Self.write("\n\r\n")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let directory = FileManager.default.temporaryDirectory.path
        for path in ["/nonexistent/sessionkit-secret", empty, directory] {
            let error = #expect(throws: SessionError.self) { try SessionSecret(contentsOfFile: path) }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains(path) == true)
            let listError = #expect(throws: SessionError.self) { try SessionSecret.list(contentsOfFile: path) }
            #expect(listError?.code == .configuration)
        }
    }

    @Test("the secret read from a file is redacted like any other")
    func redacted() throws {
        let text = "file-secret-that-must-not-print-Zq81Lm"
        let path = try Self.write(text + "\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let secret = try SessionSecret(contentsOfFile: path)
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains(text))
        #expect(!"\(secret)".contains(text))
    }
}
