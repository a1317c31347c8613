import Testing
@testable import SessionKit

@Suite("SessionRecordCoding")
struct SessionRecordCodingTests {
    static func value(_ random: inout SplitMix64) -> SessionValue {
        SessionValue(json: Array("\"\(String(repeating: "v", count: Int(random.next() % 40)))\"".utf8))
    }

    /// Applying a delta to the bytes gives what decoding, applying and encoding give: random
    /// sessions, random deltas (set, remove, replace, keys both set and removed), with and without
    /// a trailer.
    @Test func applyingToTheBlobMatchesTheDictionaryRoute() throws {
        var random = SplitMix64(seed: 9)
        let keys = (0..<12).map { "key\($0)" } + ["_user_id", "ü-ñ", ""]
        for round in 0..<2000 {
            var values: [String: SessionValue] = [:]
            for key in keys where random.next() % 2 == 0 { values[key] = Self.value(&random) }
            let trailer: [String?] = round % 3 == 0 ? [] : ["Mozilla/5.0", round % 2 == 0 ? nil : "203.0.113.7"]
            let blob = SessionRecordCoding.encode(values, trailer: trailer)
            let delta: SessionDelta
            if random.next() % 5 == 0 {
                var replacement: [String: SessionValue] = [:]
                for key in keys where random.next() % 3 == 0 { replacement[key] = Self.value(&random) }
                delta = .replaceAll(replacement)
            } else {
                var set: [String: SessionValue] = [:]
                var remove: Set<String> = []
                for key in keys {
                    switch random.next() % 6 {
                    case 0: set[key] = Self.value(&random)
                    case 1: remove.insert(key)
                    case 2:
                        set[key] = Self.value(&random)
                        remove.insert(key)
                    default: break
                    }
                }
                delta = .update(set: set, remove: remove)
            }
            var expected = values
            SessionRecordCoding.apply(delta, to: &expected)
            let applied = try SessionRecordCoding.decode(try SessionRecordCoding.applying(delta, toBlob: blob))
            #expect(applied.values == expected, "round \(round)")
            #expect(applied.trailer == trailer, "round \(round)")
        }
    }

    @Test func malformedBlobsThrowAsDecodingDoes() {
        let good = SessionRecordCoding.encode(["a": SessionValue(json: Array("1".utf8))], trailer: ["ua", nil])
        for cut in 0..<good.count {
            let broken = Array(good.prefix(cut))
            let decodes = (try? SessionRecordCoding.decode(broken)) != nil
            let applies = (try? SessionRecordCoding.applying(.update(set: [:], remove: []), toBlob: broken)) != nil
            #expect(decodes == applies, "cut at \(cut)")
        }
        #expect(throws: SessionStoreError.self) { try SessionRecordCoding.applying(.replaceAll([:]), toBlob: [2, 0]) }
    }
}
