import Foundation
import Testing
@testable import SessionKit

/// Differential check against the real Flask 3.1.3 / itsdangerous 2.2.0: a corpus of random sessions
/// that Flask encoded (secret `diff-secret`, timestamp 1700000000) and random authentic cookies, most
/// with hostile tagged JSON, with the outcome Flask's `loads` gave at now = 1700000060. The corpus is
/// produced by a Python script run against the installed Flask (not part of the package). Runs only
/// when `FLASK_DIFF_CORPUS` names the corpus file.
@Suite("Flask differential", .enabled(if: ProcessInfo.processInfo.environment["FLASK_DIFF_CORPUS"] != nil))
struct FlaskDifferentialTests {
    nonisolated(unsafe) static let corpus: [String: Any] = {
        guard let path = ProcessInfo.processInfo.environment["FLASK_DIFF_CORPUS"],
              let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }()

    @Test func encodesAsFlask() throws {
        let codec = try FlaskSessionCodec(secretKey: "diff-secret")
        let cases = Self.corpus["encode"] as? [[String: Any]] ?? []
        var mismatches = 0
        for item in cases {
            guard case .dict(let entries) = try FlaskTypedValue.value(item["session"]!) else { continue }
            let cookie = try? codec.sign(session: entries, timestamp: 1_700_000_000)
            if cookie != item["cookie"] as? String {
                mismatches += 1
                if mismatches <= 5 { Issue.record("encode mismatch: \(item["session"]!)\n  ours   \(cookie ?? "throws")\n  flask  \(item["cookie"]!)") }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(cases.count)")
    }

    @Test func decodesAsFlask() throws {
        let codec = try FlaskSessionCodec(secretKey: "diff-secret")
        let context = SessionCodecContext(cookieName: "session", now: 1_700_000_060, lifetime: 2_678_400)
        let cases = Self.corpus["decode"] as? [[String: Any]] ?? []
        var mismatches = 0
        for item in cases {
            let cookie = item["cookie"] as! String
            let report = codec.inspect(cookie[...], context: context)
            let outcome = item["outcome"] as! String
            var ok: Bool
            switch outcome {
            case "ok":
                let expected = try FlaskTypedValue.value(item["session"]!)
                ok = report.rejection == nil && report.session == expected
            case "bad_payload", "not_mapping", "nonstr_keys":
                ok = report.rejection == .badPayload
            default:
                ok = report.rejection?.rawValue == outcome
            }
            if !ok {
                mismatches += 1
                let json = report.json.map { String(decoding: $0, as: UTF8.self) } ?? "?"
                if mismatches <= 10 { Issue.record("decode mismatch (\(outcome)): \(json)\n  ours \(report.rejection?.description ?? "ok") \(String(describing: report.session))\n  flask \(item["session"] ?? "-")") }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(cases.count)")
    }
}
