import Foundation
import Testing
@testable import SessionKit

/// Every `session_vectors` entry of the Flask vector file (FORMAT.md §8).
@Suite("Flask session vectors")
struct FlaskVectorTests {

    @Test(arguments: FlaskVectors.sessionVectorIDs)
    func vector(_ id: String) throws {
        let vector = FlaskVectors.sessionVector(id)
        let kind = vector["kind"] as! String
        if kind == "encode+decode" { try checkEncode(vector) }
        try checkDecode(vector)
    }

    @Test func everyVectorIsCovered() {
        #expect(FlaskVectors.sessionVectors.count == 53)
    }

    private func codec(_ vector: [String: Any], signer: Bool = false) throws -> FlaskSessionCodec {
        let key = signer ? vector["signed_with_key_hex"] as! String : vector["secret_key_hex"] as! String
        let fallbacks = (vector["fallback_keys"] as? [[String: Any]] ?? []).map { FlaskTypedValue.hexBytes($0["hex"] as! String) }
        return try FlaskSessionCodec(secretKey: FlaskTypedValue.hexBytes(key), fallbacks: signer ? [] : fallbacks)
    }

    private func checkEncode(_ vector: [String: Any]) throws {
        let id = vector["id"] as! String
        let codec = try codec(vector, signer: true)
        let derived = FlaskSessionCodec.derivedKeyBytes(FlaskTypedValue.hexBytes(vector["signed_with_key_hex"] as! String))
        #expect(FlaskTypedValue.hex(derived) == vector["derived_key_hex"] as? String, "\(id): derived key")

        guard case .dict(let entries) = try FlaskTypedValue.value(vector["session"]!) else {
            Issue.record("\(id): session is not a dict")
            return
        }
        let taggedJSON = String(decoding: FlaskJSON.taggedBytes(.dict(entries)), as: UTF8.self)
        #expect(taggedJSON == vector["tagged_json"] as? String, "\(id): tagged JSON")

        let timestamp = (vector["timestamp"] as! NSNumber).int64Value
        let cookie = try codec.sign(session: entries, timestamp: timestamp)
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        let compressed = cookie.hasPrefix(".")
        #expect(compressed == vector["compressed"] as? Bool, "\(id): compression decision")
        let payload = parts.dropLast(2).joined(separator: ".")
        #expect(payload == vector["payload"] as? String, "\(id): payload")
        #expect(String(parts[parts.count - 2]) == vector["timestamp_b64"] as? String, "\(id): timestamp")
        #expect(String(parts[parts.count - 1]) == vector["signature"] as? String, "\(id): signature")
        #expect(cookie == vector["cookie"] as? String, "\(id): cookie")

        // The SessionData path gives the same cookie.
        var data = SessionData()
        for entry in entries { data.values[entry.key] = SessionValue(flask: entry.value) }
        let context = SessionCodecContext(cookieName: "session", now: timestamp, lifetime: 2_678_400)
        #expect(try codec.encode(data, context: context) == cookie, "\(id): encode(SessionData)")
    }

    private func checkDecode(_ vector: [String: Any]) throws {
        let id = vector["id"] as! String
        let decode = vector["decode"] as! [String: Any]
        let codec = try codec(vector)
        let context = SessionCodecContext(
            cookieName: "session",
            now: (decode["now"] as! NSNumber).int64Value,
            lifetime: (decode["max_age"] as! NSNumber).int64Value
        )
        let cookie = vector["cookie"] as! String
        let result = codec.decode(cookie[...], context: context)
        let outcome = decode["outcome"] as! String
        switch outcome {
        case "ok":
            guard case .valid(let data, let needsReissue) = result else {
                Issue.record("\(id): expected ok, got \(result)")
                return
            }
            let usedFallback = (vector["signed_with_key_hex"] as? String) != (vector["secret_key_hex"] as? String)
            #expect(needsReissue == usedFallback, "\(id): needsReissue")
            guard case .dict(let expected) = try FlaskTypedValue.value(decode["flask_session"]!) else {
                Issue.record("\(id): flask_session is not a dict")
                return
            }
            #expect(data.values.count == expected.count, "\(id): key count")
            for entry in expected {
                #expect(try data.values[entry.key]?.flaskValue() == entry.value, "\(id): value of \(entry.key)")
            }
            if vector["timestamp"] != nil {
                #expect(data.issuedAt == (vector["timestamp"] as! NSNumber).int64Value, "\(id): issuedAt")
            }
        case "not_a_mapping_500", "bad_payload":
            // Flask answers HTTP 500; SessionKit starts an empty session.
            #expect(decode["flask_http_status"] as? Int == 500)
            #expect(rejection(result) == .badPayload, "\(id): \(result)")
        default:
            #expect(rejection(result)?.rawValue == outcome, "\(id): \(result)")
            #expect(decode["flask_session"] as? [String: [Any]] != nil)
        }
    }

    private func rejection(_ result: SessionDecodeResult) -> SessionRejection? {
        if case .rejected(let reason) = result { return reason }
        return nil
    }
}
