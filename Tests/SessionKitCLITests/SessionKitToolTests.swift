import Foundation
import Testing

/// Runs the built `sessionkit` executable as a user would.
struct Tool {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let path: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        if let explicit = ProcessInfo.processInfo.environment["SESSIONKIT_BIN"] { return explicit }
        for candidate in [".build/debug/sessionkit", ".build/x86_64-unknown-linux-gnu/debug/sessionkit", ".build/aarch64-unknown-linux-gnu/debug/sessionkit"] {
            let url = root.appendingPathComponent(candidate)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url.path }
        }
        return root.appendingPathComponent(".build/debug/sessionkit").path
    }()

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SESSIONKIT_SECRET")
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}

@Suite("sessionkit tool", .serialized)
struct SessionKitToolTests {
    // Vector `plain_string` of ../shared/flask/vectors.json.
    static let flaskCookie = "eyJ1c2VybmFtZSI6ImFsaWNlIn0.ZVPxAA.xewjHM3zIFFtK5dWW93S8OnpPTI"
    static let flaskSecret = "dev-secret-key-for-vectors"
    static let secret = "0123456789abcdef0123456789abcdef-tool"

    @Test func decodesAFlaskCookie() throws {
        let result = try Tool.run(["decode", "--secret", Self.flaskSecret, "--now", "1700000060", Self.flaskCookie])
        #expect(result.status == 0)
        #expect(result.stdout == "{\"username\":\"alice\"}\n")
        #expect(result.stderr.contains("format: flask"))
        #expect(result.stderr.contains("outcome: ok"))
        #expect(result.stderr.contains("issued_at: 1700000000 (2023-11-14T22:13:20Z)"))
    }

    @Test func reportsEachOutcome() throws {
        let wrongKey = try Tool.run(["decode", "--secret", "other", "--now", "1700000060", Self.flaskCookie])
        #expect(wrongKey.status == 1)
        #expect(wrongKey.stderr.contains("outcome: bad_signature"))
        #expect(wrongKey.stdout.isEmpty)
        let expired = try Tool.run(["decode", "--secret", Self.flaskSecret, "--now", "1800000000", Self.flaskCookie])
        #expect(expired.stderr.contains("outcome: expired"))
        let fallback = try Tool.run(["decode", "--secret", "new-key", "--fallback", Self.flaskSecret, "--now", "1700000060", Self.flaskCookie])
        #expect(fallback.status == 0)
        #expect(fallback.stderr.contains("verified_with: fallback 0"))
        let hex = try Tool.run(["decode", "--secret-hex", Array(Self.flaskSecret.utf8).map { String(format: "%02x", $0) }.joined(), "--now", "1700000060", Self.flaskCookie])
        #expect(hex.status == 0)
    }

    @Test func encodesExactlyAsFlask() throws {
        let result = try Tool.run(["encode", "--format", "flask", "--secret", Self.flaskSecret, "--timestamp", "1700000000", #"{"username":"alice"}"#])
        #expect(result.status == 0)
        #expect(result.stdout == Self.flaskCookie + "\n")
    }

    @Test(arguments: ["signed", "encrypted"])
    func nativeRoundTrip(format: String) throws {
        let encoded = try Tool.run(["encode", "--format", format, "--secret", Self.secret, #"{"user":"bob","n":3,"cart":["a","b"]}"#])
        #expect(encoded.status == 0, "\(encoded.stderr)")
        let cookie = encoded.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let decoded = try Tool.run(["decode", "--secret", Self.secret, "session=\(cookie)"])
        #expect(decoded.status == 0, "\(decoded.stderr)")
        #expect(decoded.stdout == #"{"cart":["a","b"],"n":3,"user":"bob"}"# + "\n")
        #expect(decoded.stderr.contains("format: \(format)"))
        let otherName = try Tool.run(["decode", "--secret", Self.secret, "--cookie-name", "other", cookie])
        #expect(otherName.status == 1)
        #expect(otherName.stderr.contains("outcome: bad_signature"))
    }

    @Test func noVerifyShowsSignedPayloadsButNotEncryptedOnes() throws {
        let signed = try Tool.run(["encode", "--format", "signed", "--secret", Self.secret, #"{"user":"bob"}"#]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let shown = try Tool.run(["decode", "--no-verify", signed])
        #expect(shown.status == 0)
        #expect(shown.stdout == #"{"user":"bob"}"# + "\n")
        #expect(shown.stderr.contains("unverified"))
        let flask = try Tool.run(["decode", "--no-verify", Self.flaskCookie])
        #expect(flask.stdout == "{\"username\":\"alice\"}\n")
        let encrypted = try Tool.run(["encode", "--format", "encrypted", "--secret", Self.secret, #"{"user":"bob"}"#]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let refused = try Tool.run(["decode", "--no-verify", encrypted])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("cannot be read without its secret"))
    }

    @Test func clearErrorsForBadInput() throws {
        let notACookie = try Tool.run(["decode", "--secret", Self.secret, "!!!not a cookie"])
        #expect(notACookie.status != 0)
        #expect(notACookie.stderr.contains("not a session cookie"))
        let unknownFormat = try Tool.run(["decode", "--format", "yaml", "--secret", Self.secret, "x"])
        #expect(unknownFormat.status != 0)
        let noSecret = try Tool.run(["decode", Self.flaskCookie])
        #expect(noSecret.status != 0)
        #expect(noSecret.stderr.contains("no secret"))
        let shortNative = try Tool.run(["encode", "--format", "signed", "--secret", "short", "{}"])
        #expect(shortNative.status != 0)
        #expect(shortNative.stderr.contains("sessionkit secret"))
        let badJSON = try Tool.run(["encode", "--format", "flask", "--secret", "k", "{nope"])
        #expect(badJSON.status != 0)
        #expect(badJSON.stderr.contains("not valid JSON"))
        let environment = try Tool.run(["decode", "--now", "1700000060", Self.flaskCookie], environment: ["SESSIONKIT_SECRET": Self.flaskSecret])
        #expect(environment.status == 0)
    }

    @Test func secretsAreRandomAndLongEnough() throws {
        let a = try Tool.run(["secret"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let b = try Tool.run(["secret"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(a.count == 43 && b.count == 43 && a != b)
    }

    @Test func helpForEveryCommand() throws {
        for command in [[], ["decode"], ["encode"], ["secret"]] {
            let result = try Tool.run(command + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("USAGE"))
        }
    }
}
