import Foundation

extension SessionSecret {
    /// The secret in the file at `path` (a Docker or Kubernetes secret, say): the file's bytes without
    /// trailing line breaks. Throws a configuration error naming the file (never its contents) when
    /// it is missing, unreadable or empty. A file keeps the secret out of `ps` and the environment.
    ///
    /// ```swift
    /// let secret = try SessionSecret(contentsOfFile: "/run/secrets/sessionkit")
    /// ```
    public init(contentsOfFile path: String) throws {
        var bytes = try Self.contents(ofFile: path)
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty else { throw SessionError(.configuration, "the secret file \(path) is empty") }
        self.init(bytes: bytes)
    }

    /// The secrets in the file at `path`, one a line (blank lines skipped, `\r\n` accepted), in the
    /// file's order: for key rotation, the previous secrets, newest first. Throws a configuration
    /// error naming the file when it is missing, unreadable or holds none.
    ///
    /// ```swift
    /// let previous = try SessionSecret.list(contentsOfFile: "/run/secrets/sessionkit-previous")
    /// ```
    public static func list(contentsOfFile path: String) throws -> [SessionSecret] {
        let bytes = try contents(ofFile: path)
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: true).compactMap { line -> [UInt8]? in
            var line = Array(line)
            while let last = line.last, last == 0x0D { line.removeLast() }
            return line.isEmpty ? nil : line
        }
        guard !lines.isEmpty else { throw SessionError(.configuration, "the secret file \(path) is empty") }
        return lines.map(SessionSecret.init(bytes:))
    }

    private static func contents(ofFile path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SessionError(.configuration, "the secret file \(path): no such file")
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw SessionError(.configuration, "the secret file \(path): cannot read the file")
        }
        return Array(data)
    }
}
