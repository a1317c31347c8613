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

    /// Runs the tool and waits for it on a thread of its own: a test that blocked one of the few
    /// threads Swift concurrency runs every test on would stall all the others meanwhile (on two
    /// cores, two such waits stalled the whole suite for a minute and timed-out unrelated tests).
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        try await OwnThread.run { try runAndWait(arguments, environment: environment) }
    }

    private static func runAndWait(_ arguments: [String], environment: [String: String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for name in ["SESSIONKIT_SECRET", "SESSIONKIT_SECRET_FILE", "SESSIONKIT_SECRET_FALLBACKS", "SESSIONKIT_SECRET_FALLBACKS_FILE"] {
            env.removeValue(forKey: name)
        }
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

    @Test func decodesAFlaskCookie() async throws {
        let result = try await Tool.run(["decode", "--secret", Self.flaskSecret, "--now", "1700000060", Self.flaskCookie])
        #expect(result.status == 0)
        #expect(result.stdout == "{\"username\":\"alice\"}\n")
        #expect(result.stderr.contains("format: flask"))
        #expect(result.stderr.contains("outcome: ok"))
        #expect(result.stderr.contains("issued_at: 1700000000 (2023-11-14T22:13:20Z)"))
    }

    @Test func reportsEachOutcome() async throws {
        let wrongKey = try await Tool.run(["decode", "--secret", "other", "--now", "1700000060", Self.flaskCookie])
        #expect(wrongKey.status == 1)
        #expect(wrongKey.stderr.contains("outcome: bad_signature"))
        #expect(wrongKey.stdout.isEmpty)
        let expired = try await Tool.run(["decode", "--secret", Self.flaskSecret, "--now", "1800000000", Self.flaskCookie])
        #expect(expired.stderr.contains("outcome: expired"))
        let fallback = try await Tool.run(["decode", "--secret", "new-key", "--fallback", Self.flaskSecret, "--now", "1700000060", Self.flaskCookie])
        #expect(fallback.status == 0)
        #expect(fallback.stderr.contains("verified_with: fallback 0"))
        let hex = try await Tool.run(["decode", "--secret-hex", Array(Self.flaskSecret.utf8).map { String(format: "%02x", $0) }.joined(), "--now", "1700000060", Self.flaskCookie])
        #expect(hex.status == 0)
    }

    @Test func encodesExactlyAsFlask() async throws {
        let result = try await Tool.run(["encode", "--format", "flask", "--secret", Self.flaskSecret, "--timestamp", "1700000000", #"{"username":"alice"}"#])
        #expect(result.status == 0)
        #expect(result.stdout == Self.flaskCookie + "\n")
    }

    @Test(arguments: ["signed", "encrypted"])
    func nativeRoundTrip(format: String) async throws {
        let encoded = try await Tool.run(["encode", "--format", format, "--secret", Self.secret, #"{"user":"bob","n":3,"cart":["a","b"]}"#])
        #expect(encoded.status == 0, "\(encoded.stderr)")
        let cookie = encoded.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let decoded = try await Tool.run(["decode", "--secret", Self.secret, "session=\(cookie)"])
        #expect(decoded.status == 0, "\(decoded.stderr)")
        #expect(decoded.stdout == #"{"cart":["a","b"],"n":3,"user":"bob"}"# + "\n")
        #expect(decoded.stderr.contains("format: \(format)"))
        let otherName = try await Tool.run(["decode", "--secret", Self.secret, "--cookie-name", "other", cookie])
        #expect(otherName.status == 1)
        #expect(otherName.stderr.contains("outcome: bad_signature"))
    }

    @Test func noVerifyShowsSignedPayloadsButNotEncryptedOnes() async throws {
        let signed = try await Tool.run(["encode", "--format", "signed", "--secret", Self.secret, #"{"user":"bob"}"#]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let shown = try await Tool.run(["decode", "--no-verify", signed])
        #expect(shown.status == 0)
        #expect(shown.stdout == #"{"user":"bob"}"# + "\n")
        #expect(shown.stderr.contains("unverified"))
        let flask = try await Tool.run(["decode", "--no-verify", Self.flaskCookie])
        #expect(flask.stdout == "{\"username\":\"alice\"}\n")
        let encrypted = try await Tool.run(["encode", "--format", "encrypted", "--secret", Self.secret, #"{"user":"bob"}"#]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let refused = try await Tool.run(["decode", "--no-verify", encrypted])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("cannot be read without its secret"))
    }

    /// A forged signed cookie: `values`' bytes spliced in as they are, a MAC of zeros.
    static func forgedSignedCookie(_ values: [(key: [UInt8], value: [UInt8])]) async throws -> String {
        let genuine = try await Tool.run(["encode", "--format", "signed", "--secret", secret, "{}"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let genuineBytes = try #require(Data(base64Encoded: base64(fromURL: genuine)))
        var bytes = Array(genuineBytes.prefix(2 + 16))   // version, key ID, issued-at, deadline
        bytes.append(UInt8(values.count))
        for (key, value) in values {
            bytes.append(UInt8(key.count))
            bytes += key
            bytes.append(UInt8(value.count))
            bytes += value
        }
        bytes += [UInt8](repeating: 0, count: 32)
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func base64(fromURL text: String) -> String {
        let standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        return standard + String(repeating: "=", count: (4 - standard.count % 4) % 4)
    }

    /// `decode --no-verify` shows cookies nobody vouches for: what it prints is JSON whatever the
    /// cookie holds (quotes, newlines, invalid UTF-8, bytes that would forge a key if spliced in).
    @Test func noVerifyPrintsRealJSONWhateverTheCookieHolds() async throws {
        let forged = try await Self.forgedSignedCookie([
            (Array("a\"b\nc".utf8), Array(#"1,"forged":true"#.utf8)),
            (Array("x".utf8), Array("\"\n".utf8) + [0xFF, 0x22]),
            (Array("ok".utf8), Array(#"{"n":[1,"two"]}"#.utf8)),
        ])
        let shown = try await Tool.run(["decode", "--no-verify", forged])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stderr.contains("unverified"))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any], "\(shown.stdout)")
        #expect(Set(parsed.keys) == ["a\"b\nc", "x", "ok"])
        #expect(parsed["forged"] == nil)
        #expect(parsed["a\"b\nc"] as? String == #"1,"forged":true"#)
        #expect(parsed["x"] as? String == "\"\n\u{FFFD}\"")
        #expect((parsed["ok"] as? [String: Any])?["n"] as? [Any] != nil)
        #expect(shown.stdout.split(separator: "\n").count == 1)

        // Flask's format: a payload with quotes and newlines comes out as JSON too, and one that is
        // not UTF-8 is refused (nothing on stdout).
        func flask(_ payload: [UInt8]) -> String {
            Data(payload).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "") + ".ZVPxAA.xewjHM3zIFFtK5dWW93S8OnpPTI"
        }
        let quoted = try await Tool.run(["decode", "--no-verify", flask(Array(#"{"a\"b":"line\nbreak\u0000"}"#.utf8))])
        #expect(quoted.status == 0, "\(quoted.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(quoted.stdout.utf8)) as? [String: Any], "\(quoted.stdout)")
        #expect(object["a\"b"] as? String == "line\nbreak\u{0}")
        let invalid = try await Tool.run(["decode", "--no-verify", flask(Array(#"{"a":""#.utf8) + [0xFF, 0x22, 0x7D])])
        if invalid.status == 0 {
            #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(invalid.stdout.utf8)) }
        } else {
            #expect(invalid.stdout.isEmpty)
        }
    }

    /// Secrets and fallbacks from files (named by an option or an environment variable), so that
    /// `ps` does not show them; a file that is missing, unreadable or empty is a clear error.
    @Test func secretsAndFallbacksFromFiles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sk-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ name: String, _ text: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let secretFile = try file("secret", Self.flaskSecret + "\n")
        let decode = ["decode", "--now", "1700000060", Self.flaskCookie]

        let fromOption = try await Tool.run(["decode", "--secret-file", secretFile] + decode.dropFirst())
        #expect(fromOption.status == 0, "\(fromOption.stderr)")
        #expect(fromOption.stdout == "{\"username\":\"alice\"}\n")
        let fromEnvironment = try await Tool.run(decode, environment: ["SESSIONKIT_SECRET_FILE": secretFile])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
        #expect(fromEnvironment.stdout == "{\"username\":\"alice\"}\n")

        let fallbacks = try file("fallbacks", "an-even-older-key\n\(Self.flaskSecret)\r\n")
        let fallbackOption = try await Tool.run(["decode", "--secret", "new-key", "--fallback-file", fallbacks] + decode.dropFirst())
        #expect(fallbackOption.status == 0, "\(fallbackOption.stderr)")
        #expect(fallbackOption.stderr.contains("verified_with: fallback 1"))
        let fallbackEnvironment = try await Tool.run(["decode", "--secret", "new-key"] + decode.dropFirst(), environment: ["SESSIONKIT_SECRET_FALLBACKS_FILE": fallbacks])
        #expect(fallbackEnvironment.status == 0, "\(fallbackEnvironment.stderr)")
        #expect(fallbackEnvironment.stderr.contains("verified_with: fallback 1"))
        let fallbackList = try await Tool.run(["decode", "--secret", "new-key"] + decode.dropFirst(), environment: ["SESSIONKIT_SECRET_FALLBACKS": "x,\(Self.flaskSecret)"])
        #expect(fallbackList.status == 0, "\(fallbackList.stderr)")

        let empty = try file("empty", "\n")
        let missing = directory.appendingPathComponent("missing").path
        let failures: [(arguments: [String], environment: [String: String], message: String)] = [
            (["--secret-file", empty], [:], "is empty"),
            (["--secret-file", missing], [:], "no such file"),
            (["--secret-file", directory.path], [:], "cannot read"),
            ([], ["SESSIONKIT_SECRET_FILE": missing], "SESSIONKIT_SECRET_FILE"),
            ([], ["SESSIONKIT_SECRET_FILE": empty], "is empty"),
            (["--secret", "k", "--fallback-file", empty], [:], "is empty"),
            (["--secret", "k", "--fallback-file", missing], [:], "no such file"),
            (["--secret", "k"], ["SESSIONKIT_SECRET_FALLBACKS_FILE": missing], "SESSIONKIT_SECRET_FALLBACKS_FILE"),
            ([], ["SESSIONKIT_SECRET_FILE": secretFile, "SESSIONKIT_SECRET": "x"], "only one"),
        ]
        for failure in failures {
            let result = try await Tool.run(["decode"] + failure.arguments + decode.dropFirst(), environment: failure.environment)
            #expect(result.status != 0, "\(failure)")
            #expect(result.stderr.contains(failure.message), "\(failure): \(result.stderr)")
            #expect(result.stdout.isEmpty)
            #expect(!result.stderr.contains(Self.flaskSecret) && !result.stdout.contains(Self.flaskSecret))
        }
    }

    @Test func clearErrorsForBadInput() async throws {
        let notACookie = try await Tool.run(["decode", "--secret", Self.secret, "!!!not a cookie"])
        #expect(notACookie.status != 0)
        #expect(notACookie.stderr.contains("not a session cookie"))
        let unknownFormat = try await Tool.run(["decode", "--format", "yaml", "--secret", Self.secret, "x"])
        #expect(unknownFormat.status != 0)
        let noSecret = try await Tool.run(["decode", Self.flaskCookie])
        #expect(noSecret.status != 0)
        #expect(noSecret.stderr.contains("no secret"))
        let shortNative = try await Tool.run(["encode", "--format", "signed", "--secret", "short", "{}"])
        #expect(shortNative.status != 0)
        #expect(shortNative.stderr.contains("sessionkit secret"))
        let badJSON = try await Tool.run(["encode", "--format", "flask", "--secret", "k", "{nope"])
        #expect(badJSON.status != 0)
        #expect(badJSON.stderr.contains("not valid JSON"))
        let environment = try await Tool.run(["decode", "--now", "1700000060", Self.flaskCookie], environment: ["SESSIONKIT_SECRET": Self.flaskSecret])
        #expect(environment.status == 0)
    }

    @Test func secretsAreRandomAndLongEnough() async throws {
        let a = try await Tool.run(["secret"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let b = try await Tool.run(["secret"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(a.count == 43 && b.count == 43 && a != b)
    }

    @Test func helpForEveryCommand() async throws {
        for command in [[], ["decode"], ["encode"], ["secret"]] {
            let result = try await Tool.run(command + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("USAGE"))
        }
    }
}
