import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The built `sessionkit-demo` takes its secret and fallbacks from files (`--secret-file`,
/// `SESSIONKIT_SECRET_FILE`, `--fallback-secret-file`), which `ps` does not show, and refuses a
/// file it cannot use with a clear error.
@Suite("sessionkit-demo secret files", .serialized)
struct DemoSecretFileTests {
    /// Beside `sessionkit` (or `SESSIONKIT_DEMO_BIN`).
    static let path: String = ProcessInfo.processInfo.environment["SESSIONKIT_DEMO_BIN"]
        ?? URL(fileURLWithPath: Tool.path).deletingLastPathComponent().appendingPathComponent("sessionkit-demo").path

    static let secret = "0123456789abcdef0123456789abcdef-demo-secret-file"

    final class Demo: @unchecked Sendable {
        let process = Process()
        let out = Pipe(), err = Pipe()

        init(_ arguments: [String], environment: [String: String] = [:], directory: URL) throws {
            process.executableURL = URL(fileURLWithPath: DemoSecretFileTests.path)
            process.arguments = ["--store", "cookie", "--format", "signed", "--host", "127.0.0.1"] + arguments
            var env = ProcessInfo.processInfo.environment
            for name in ["SESSIONKIT_SECRET", "SESSIONKIT_SECRET_FILE", "SESSIONKIT_SECRET_FALLBACKS", "SESSIONKIT_SECRET_FALLBACKS_FILE"] {
                env.removeValue(forKey: name)
            }
            env.merge(environment) { $1 }
            process.environment = env
            process.currentDirectoryURL = directory
            process.standardOutput = out
            process.standardError = err
            try process.run()
        }

        /// Waits up to `seconds` for the process to exit (sleeping as a task, not blocking one of the
        /// threads every test runs on); stops it when it has not.
        func exit(within seconds: Double) async throws -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            guard !process.isRunning else { stop(); return nil }
            // Already exited, so this returns at once; without it Foundation keeps the Process (its
            // run loop source holds it) and all it refers to until exit, which LeakSanitizer
            // reported (`scripts/test --sanitize address`, 2026-12-05; scripts/sanitizers/lsan-foundation.swift).
            process.waitUntilExit()
            return process.terminationStatus
        }

        func stop() {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }

        /// Everything it wrote (after it exited).
        var output: (stdout: String, stderr: String) {
            (String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
             String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
    }

    /// The demo exited before it answered: its status and what it wrote.
    struct DemoExited: Error, CustomStringConvertible {
        let status: Int32
        let stdout: String
        let stderr: String
        let underlying: String
        var description: String { "the demo exited with status \(status) before answering (\(underlying)); stderr: \(stderr); stdout: \(stdout)" }
    }

    /// The demo kept running but did not answer in time.
    struct GaveUp: Error, CustomStringConvertible {
        let after: TimeInterval
        let underlying: String
        var description: String { "the demo did not answer within \(Int(after)) s: \(underlying)" }
    }

    /// A GET to the demo on `port`, retried while it starts; the body and the `Set-Cookie` header.
    static func get(_ port: Int, _ path: String, cookie: String? = nil, demo: Demo) async throws -> (body: String, setCookie: String?) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieStorage = nil
        let session = URLSession(configuration: configuration)
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        if let cookie { request.setValue(cookie, forHTTPHeaderField: "Cookie") }
        // Times SESSIONKIT_TIME_SCALE (SessionKitTesting's TestTimeScale, which this target does not
        // link): a sanitized demo on a loaded machine took over 60 s to listen (2026-12-05).
        let scale = Double(ProcessInfo.processInfo.environment["SESSIONKIT_TIME_SCALE"] ?? "").flatMap { $0 >= 1 ? $0 : nil } ?? 1
        let start = Date()
        let deadline = start.addingTimeInterval(60 * scale)
        while true {
            do {
                let (data, response) = try await session.data(for: request)
                let http = try #require(response as? HTTPURLResponse)
                return (String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "Set-Cookie"))
            } catch {
                guard demo.process.isRunning else {
                    // Why it is gone, not only that nothing listens.
                    let output = demo.output
                    throw DemoExited(status: demo.process.terminationStatus, stdout: output.stdout, stderr: output.stderr, underlying: "\(error)")
                }
                guard Date() < deadline else { throw GaveUp(after: Date().timeIntervalSince(start), underlying: "\(error)") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Starts a demo with `arguments` on a random port below Linux's ephemeral range (32768 and
    /// up, where the suite's own outgoing connections take their ports) and GETs `path` from it;
    /// a demo that could not bind its port (taken meanwhile) is tried again on another, up to five
    /// times. Returns the running demo and the answer.
    static func startAndGet(
        _ arguments: [String], environment: [String: String] = [:], directory: URL, path: String, cookie: String? = nil
    ) async throws -> (demo: Demo, body: String, setCookie: String?) {
        var attempt = 0
        while true {
            attempt += 1
            let port = Int.random(in: 10_000..<32_000)
            let demo = try Demo(["--port", "\(port)"] + arguments, environment: environment, directory: directory)
            do {
                let answer = try await get(port, path, cookie: cookie, demo: demo)
                return (demo, answer.body, answer.setCookie)
            } catch let exited as DemoExited where exited.stderr.contains("Address already in use") && attempt < 5 {
                continue
            } catch {
                demo.stop()
                throw error
            }
        }
    }

    @Test func takesTheSecretAndFallbacksFromFiles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sk-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secretFile = directory.appendingPathComponent("secret").path
        try Data((Self.secret + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        // The session a demo with the file's secret issues...
        let (first, _, set) = try await Self.startAndGet(["--secret-file", secretFile], directory: directory, path: "/?username=from-file")
        first.stop()
        let output = first.output
        #expect(!output.stdout.contains(Self.secret) && !output.stderr.contains(Self.secret))
        let cookie = try #require(set?.split(separator: ";").first.map(String.init))

        // ...is read by a demo with the same secret from SESSIONKIT_SECRET_FILE, and by one where
        // it is a fallback from a file (without the trailing newline, or the MAC would differ).
        let fallbacks = directory.appendingPathComponent("fallbacks").path
        try Data("an-older-secret-an-older-secret-an-older\n\(Self.secret)\n".utf8).write(to: URL(fileURLWithPath: fallbacks))
        let runs: [(arguments: [String], environment: [String: String])] = [
            ([], ["SESSIONKIT_SECRET_FILE": secretFile]),
            (["--secret", "a-newer-secret-a-newer-secret-a-newer-secret", "--fallback-secret-file", fallbacks], [:]),
            (["--secret", "a-newer-secret-a-newer-secret-a-newer-secret"], ["SESSIONKIT_SECRET_FALLBACKS_FILE": fallbacks]),
        ]
        for run in runs {
            let (demo, body, _) = try await Self.startAndGet(run.arguments, environment: run.environment, directory: directory, path: "/get", cookie: cookie)
            demo.stop()
            #expect(body.contains("from-file"), "\(run): \(body)")
        }
    }

    @Test func refusesASecretFileItCannotUse() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sk-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty").path
        try Data("\n".utf8).write(to: URL(fileURLWithPath: empty))
        let missing = directory.appendingPathComponent("missing").path
        let cases: [(arguments: [String], environment: [String: String], message: String)] = [
            (["--secret-file", missing], [:], "no such file"),
            (["--secret-file", empty], [:], "is empty"),
            (["--secret-file", directory.path], [:], "cannot read"),
            ([], ["SESSIONKIT_SECRET_FILE": missing], "SESSIONKIT_SECRET_FILE"),
            (["--secret", Self.secret, "--fallback-secret-file", empty], [:], "is empty"),
            (["--secret", Self.secret], ["SESSIONKIT_SECRET_FALLBACKS_FILE": missing], "SESSIONKIT_SECRET_FALLBACKS_FILE"),
        ]
        for failure in cases {
            // It exits before binding: any port will do.
            let demo = try Demo(["--port", "\(Int.random(in: 10_000..<32_000))"] + failure.arguments, environment: failure.environment, directory: directory)
            let status = try await demo.exit(within: 30)
            let output = demo.output
            #expect(status != nil && status != 0, "\(failure): the demo \(status == nil ? "kept running" : "exited \(status!)")")
            #expect(output.stderr.contains(failure.message), "\(failure): \(output.stderr)")
            #expect(!output.stderr.contains(Self.secret) && !output.stdout.contains(Self.secret))
        }
    }
}
