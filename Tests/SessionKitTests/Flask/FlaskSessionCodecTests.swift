import Foundation
import Testing
@testable import SessionKit

@Suite("Flask session codec")
struct FlaskSessionCodecTests {
    static let now: Int64 = 1_700_000_060
    static let context = SessionCodecContext(cookieName: "session", now: now, lifetime: 2_678_400)

    private func data(_ pairs: KeyValuePairs<String, FlaskValue>) -> SessionData {
        var data = SessionData()
        for (key, value) in pairs { data.values[key] = SessionValue(flask: value) }
        return data
    }

    /// A cookie whose payload is the given JSON text, authentic under `codec`.
    private func signed(_ json: String, codec: FlaskSessionCodec, compress: Bool = false, timestamp: Int64 = 1_700_000_000) -> String {
        var payload = Array(json.utf8)
        if compress { payload = FlaskZlib.compress(payload)! }
        let stamp = withUnsafeBytes(of: UInt64(timestamp).bigEndian) { raw in Array(raw.drop { byte in byte == 0 }) }
        return codec.signFields(payload: (compress ? "." : "") + Base64URL.encode(payload), timestamp: Base64URL.encode(stamp))
    }

    private func rejection(_ result: SessionDecodeResult) -> SessionRejection? {
        if case .rejected(let reason) = result { return reason }
        return nil
    }

    private func values(_ result: SessionDecodeResult) throws -> [String: FlaskValue]? {
        guard case .valid(let data, _) = result else { return nil }
        return try data.values.mapValues { try $0.flaskValue() }
    }

    // MARK: Keys

    @Test func keyRotation() throws {
        let old = try FlaskSessionCodec(secretKey: "old-key")
        let rotated = try FlaskSessionCodec(secretKey: "new-key", fallbacks: ["older-key", "old-key"])
        let session = data(["username": .string("alice")])

        let oldCookie = try old.encode(session, context: Self.context)
        guard case .valid(let read, let needsReissue) = rotated.decode(oldCookie[...], context: Self.context) else {
            Issue.record("a fallback-signed cookie must verify")
            return
        }
        #expect(needsReissue)
        #expect(read.issuedAt == Self.now)
        #expect(rotated.inspect(oldCookie[...], context: Self.context).verification == .fallbackKey(index: 1))
        let olderCookie = try FlaskSessionCodec(secretKey: "older-key").encode(session, context: Self.context)
        #expect(rotated.inspect(olderCookie[...], context: Self.context).verification == .fallbackKey(index: 0))

        // Re-issued under the current key only.
        let newCookie = try rotated.encode(read, context: Self.context)
        guard case .valid(_, let again) = rotated.decode(newCookie[...], context: Self.context) else {
            Issue.record("the re-issued cookie must verify")
            return
        }
        #expect(!again)
        #expect(try FlaskSessionCodec(secretKey: "new-key").decode(newCookie[...], context: Self.context).isValid)
        #expect(rejection(old.decode(newCookie[...], context: Self.context)) == .badSignature)
        #expect(rejection(try FlaskSessionCodec(secretKey: "other").decode(oldCookie[...], context: Self.context)) == .badSignature)
    }

    @Test func bytesAndStringKeysAgree() throws {
        let text = try FlaskSessionCodec(secretKey: "clé-secrète")
        let bytes = try FlaskSessionCodec(secretKey: Array("clé-secrète".utf8))
        let session = data(["n": .int(1)])
        #expect(try text.encode(session, context: Self.context) == bytes.encode(session, context: Self.context))
        #expect(throws: SessionError.self) { try FlaskSessionCodec(secretKey: "") }
        #expect(throws: SessionError.self) { try FlaskSessionCodec(secretKey: "k", fallbacks: [""]) }
    }

    @Test func secretsStayHidden() throws {
        let codec = try FlaskSessionCodec(secretKey: "super-secret-value", fallbacks: ["another-secret"])
        let derived = FlaskTypedValue.hex(FlaskSessionCodec.derivedKeyBytes(Array("super-secret-value".utf8)))
        var dumped = ""
        dump(codec, to: &dumped)
        for text in [String(describing: codec), String(reflecting: codec), dumped] {
            #expect(!text.contains("super-secret"))
            #expect(!text.contains("another-secret"))
            #expect(!text.contains(derived))
            #expect(!text.contains(derived.uppercased()))
        }
    }

    // MARK: Time

    @Test func timestamps() throws {
        let codec = try FlaskSessionCodec(secretKey: "k")
        let session = data(["a": .int(1)])
        let issued = SessionCodecContext(cookieName: "session", now: 1_700_000_000, lifetime: 3600)
        let cookie = try codec.encode(session, context: issued)
        func at(_ now: Int64) -> SessionCodecContext { SessionCodecContext(cookieName: "session", now: now, lifetime: 3600) }
        #expect(codec.decode(cookie[...], context: at(1_700_003_600)).isValid)              // age == max_age
        #expect(rejection(codec.decode(cookie[...], context: at(1_700_003_601))) == .expired)
        #expect(rejection(codec.decode(cookie[...], context: at(1_699_999_999))) == .expired) // issued in the future
        var lenient = codec
        lenient.clockSkewLeeway = 5
        #expect(lenient.decode(cookie[...], context: at(1_699_999_995)).isValid)
        #expect(rejection(lenient.decode(cookie[...], context: at(1_699_999_994))) == .expired)

        // 0 is an empty field; 2^32 + 5 takes 5 bytes; 200 takes one.
        #expect(try codec.encode(session, context: at(0)).contains(".."))
        #expect(try codec.encode(session, context: at(4_294_967_301)).split(separator: ".")[1] == "AQAAAAU")
        #expect(try codec.encode(session, context: at(200)).split(separator: ".")[1] == "yA")
        #expect(throws: SessionError.self) { try codec.encode(session, context: at(-1)) }
        let late = try codec.encode(session, context: at(4_294_967_301))
        #expect(codec.decode(late[...], context: at(4_294_967_301)).isValid)
    }

    @Test func timestampFieldErrors() throws {
        let codec = try FlaskSessionCodec(secretKey: "k")
        let payload = Base64URL.encode(Array(#"{"a":1}"#.utf8))
        // Nine bytes is a malformed timestamp; a dangling base64 character too; no timestamp at all.
        #expect(rejection(codec.decode(codec.signFields(payload: payload, timestamp: "AQIDBAUGBwgJ")[...], context: Self.context)) == .badTimestamp)
        #expect(rejection(codec.decode(codec.signFields(payload: payload, timestamp: "ZVPxA")[...], context: Self.context)) == .badTimestamp)
        #expect(rejection(codec.decode(codec.signRaw(payload)[...], context: Self.context)) == .badTimestamp)
        // A huge 8-byte timestamp is far in the future.
        #expect(rejection(codec.decode(codec.signFields(payload: payload, timestamp: "__________8")[...], context: Self.context)) == .expired)
    }

    // MARK: Limits

    @Test func oversizeCookiesAreRejectedFirst() throws {
        let codec = try FlaskSessionCodec(secretKey: "k")
        #expect(rejection(codec.decode(Substring(String(repeating: "a", count: 8193)), context: Self.context)) == .tooLarge)
        #expect(rejection(codec.decode("", context: Self.context)) == .malformed)
        var random = SystemRandomNumberGenerator()
        let noise = (0..<7000).map { _ in UInt8.random(in: 0...255, using: &random) }
        #expect(throws: SessionError.self) { try codec.encode(data(["blob": .bytes(noise)]), context: Self.context) }
    }

    @Test func decompressionBomb() throws {
        let codec = try FlaskSessionCodec(secretKey: "k")
        let bomb = signed(#"{"a":""# + String(repeating: "a", count: 4_000_000) + #""}"#, codec: codec, compress: true)
        #expect(bomb.utf8.count < 8192)
        #expect(rejection(codec.decode(bomb[...], context: Self.context)) == .badPayload)
        let justOver = signed(#"{"a":""# + String(repeating: "a", count: 65_536 - 7) + #""}"#, codec: codec, compress: true)
        #expect(rejection(codec.decode(justOver[...], context: Self.context)) == .badPayload)
        let atLimit = signed(#"{"a":""# + String(repeating: "a", count: 65_536 - 8) + #""}"#, codec: codec, compress: true)
        #expect(codec.decode(atLimit[...], context: Self.context).isValid)
        // A bomb under a wrong key is never inflated: it fails on the signature.
        let forged = try FlaskSessionCodec(secretKey: "other")
        #expect(rejection(forged.decode(bomb[...], context: Self.context)) == .badSignature)
    }

    // MARK: Payloads

    @Test func topLevelShapes() throws {
        let codec = try FlaskSessionCodec(secretKey: "k")
        func decode(_ json: String) throws -> [String: FlaskValue]? {
            try values(codec.decode(signed(json, codec: codec)[...], context: Self.context))
        }
        #expect(try decode("null") == [:])
        #expect(try decode(#"[["a",1],["b",2],["a",3]]"#) == ["a": .int(3), "b": .int(2)])
        #expect(try decode(#"{" t":[["k","v"]]}"#) == ["k": .string("v")])
        #expect(try decode(#"["xy"]"#) == ["x": .string("y")])
        #expect(try decode(#""""#) == [:])
        for json in [#""ab""#, "5", "true", "[1]", #"[[1,2]]"#, #"[["a"]]"#, #"{" u":"12345678123456781234567812345678"}"#] {
            #expect(rejection(codec.decode(signed(json, codec: codec)[...], context: Self.context)) == .badPayload, "\(json)")
        }
        // Not JSON, not UTF-8, bad zlib, bad base64: all bad payloads.
        #expect(rejection(codec.decode(codec.signFields(payload: Base64URL.encode([0x7b, 0xff, 0x7d]), timestamp: "ZVPxAA")[...], context: Self.context)) == .badPayload)
        let truncated = FlaskZlib.compress(Array(#"{"a":"aaaaaaaaaaaaaaaaaaaa"}"#.utf8))!.dropLast(3)
        #expect(rejection(codec.decode(codec.signFields(payload: "." + Base64URL.encode(truncated), timestamp: "ZVPxAA")[...], context: Self.context)) == .badPayload)
        // Bytes after the end of the zlib stream are ignored, as Python does.
        let trailing = FlaskZlib.compress(Array(#"{"a":1}"#.utf8))! + [1, 2, 3]
        #expect(try values(codec.decode(codec.signFields(payload: "." + Base64URL.encode(trailing), timestamp: "ZVPxAA")[...], context: Self.context)) == ["a": .int(1)])
        #expect(rejection(codec.decode(codec.signFields(payload: "e", timestamp: "ZVPxAA")[...], context: Self.context)) == .badPayload)
    }

    @Test func untagEdgeCases() throws {
        let codec = try FlaskSessionCodec(secretKey: "k")
        func value(_ json: String) throws -> FlaskValue? {
            try values(codec.decode(signed(#"{"v":"# + json + "}", codec: codec)[...], context: Self.context))?["v"]
        }
        #expect(try value(#"{" d":"not a date"}"#) == .null)
        #expect(try value(#"{" d":""}"#) == .null)
        #expect(try value(#"{" d":0}"#) == .null)
        #expect(try value(#"{" d":"Tue, 02 Jan 2024 03:04:05 +0100"}"#) == .datetime(1_704_161_045))
        #expect(try value(#"{" u":"{urn:uuid:12345678-9ABC-def0-1234-56789abcdef0}"}"#) == .uuid(UUID(uuidString: "12345678-9abc-def0-1234-56789abcdef0")!))
        #expect(try value(#"{" b":"A A=="}"#) == .bytes([0]))
        #expect(try value(#"{" b":"AA==junk"}"#) == .bytes([0]))
        #expect(try value(#"{" t":"ab"}"#) == .tuple([.string("a"), .string("b")]))
        #expect(try value(#"{" t":{" b":"aGk="}}"#) == .tuple([.int(104), .int(105)]))
        #expect(try value(#"{" m":5}"#) == .markup("5"))
        #expect(try value(#"{" m":null}"#) == .markup("None"))
        #expect(try value(#"{" di":{" t__":[1],"x":2}}"#) == .dict([FlaskDictEntry(" t", .list([.int(1)]))]))
        #expect(try value(#"{" zz":1}"#) == .dict([FlaskDictEntry(" zz", .int(1))]))
        #expect(try value(#"{" t":[1]," b":2}"#) == .dict([FlaskDictEntry(" t", .list([.int(1)])), FlaskDictEntry(" b", .int(2))]))
        // A duplicate key's discarded value is never untagged (Python builds the dict first).
        #expect(try value(#"{"a":{" u":"bad"},"a":1}"#) == .dict([FlaskDictEntry("a", .int(1))]))
        for bad in [#"{" u":"bad"}"#, #"{" u":5}"#, #"{" b":"AA"}"#, #"{" b":"é"}"#, #"{" b":1}"#, #"{" t":5}"#, #"{" di":{}}"#, #"{" di":"ab"}"#, #"{" d":true}"#, #"{" m":[1]}"#] {
            #expect(rejection(codec.decode(signed(#"{"v":"# + bad + "}", codec: codec)[...], context: Self.context)) == .badPayload, "\(bad)")
        }
    }

    @Test(arguments: [
        ("Tue, 02 Jan 2024 03:04:05 GMT", 1704164645), ("02 Jan 2024 03:04:05 GMT", 1704164645),
        ("Tuesday, 02-Jan-24 03:04:05 GMT", 1704164645), ("Tue Jan  2 03:04:05 2024", 1704164645),
        ("Tue, 02 Jan 2024 03:04:05 +0100", 1704161045), ("Tue, 02 Jan 2024 03:04:05 -0530", 1704184445),
        ("Tue, 02 Jan 2024 03:04:05 EST", 1704182645), ("Tue, 02 Jan 2024 03:04:05", 1704164645),
        ("2 January 2024 03:04 GMT", 1704164640), ("Tue, 02 Jan 70 03:04:05 GMT", 97445),
        ("Tue, 02 Jan 68 03:04:05 GMT", 3092699045), ("Tue,02 Jan 2024 03:04:05 GMT", 1704164645),
        ("Tue, 30 Feb 2024 03:04:05 GMT", nil), ("Tue, 02 Jan 2024 24:00:00 GMT", nil),
        ("Tue, 02 Xyz 2024 03:04:05 GMT", nil), ("garbage", nil), ("", nil), ("   ", nil),
        ("Tue, 02 Jan 2024 03.04.05 GMT", 1704164645), ("Tue, 02 Jan 2024 03:04:05 +9999", nil),
        ("Tue, 02 Jan 2024 03:04:05 -0000", 1704164645), ("Jan 02 2024 03:04:05 GMT", 1704164645),
        ("Tue, 02 Jan 2024, 03:04:05 GMT", 1704164645), ("Tue, 02 Jan 2024 3:4:5 gmt", 1704164645),
        ("Sat, 01 Jan 0001 00:00:00 GMT", 978307200), ("Fri, 31 Dec 9999 23:59:59 GMT", 253402300799),
        ("Tue, 02 Jan 2024 03:04:05+0100", 1704161045), ("02 Jan 2024 03:04:05 PDT xyz", 1704189845),
        ("Tue, 02 Jan 2_024 03:04:05 GMT", 1704164645),
    ] as [(String, Int64?)])
    func httpDatesParseAsPython(_ text: String, _ expected: Int64?) {
        // Expected values from CPython 3.11 email.utils.parsedate_to_datetime with Werkzeug's parse_date.
        #expect(FlaskHTTPDate.parse(text) == expected)
    }

    @Test func httpDateFormat() {
        #expect(FlaskHTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(FlaskHTTPDate.format(1_704_164_645) == "Tue, 02 Jan 2024 03:04:05 GMT")
        #expect(FlaskHTTPDate.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(FlaskHTTPDate.format(-1) == "Wed, 31 Dec 1969 23:59:59 GMT")
        #expect(FlaskHTTPDate.format(253_402_300_799) == "Fri, 31 Dec 9999 23:59:59 GMT")
        #expect(FlaskHTTPDate.format(-62_135_596_800) == "Mon, 01 Jan 0001 00:00:00 GMT")
        // Years 100...9999 read back exactly (below 100, Python maps two-digit years to 19xx/20xx).
        for seconds: Int64 in stride(from: -59_011_459_200, through: 253_402_300_799, by: 7_777_777) {
            #expect(FlaskHTTPDate.parse(FlaskHTTPDate.format(seconds)) == seconds)
        }
    }

    @Test(arguments: [
        ("12345678-9abc-def0-1234-56789abcdef0", "12345678-9abc-def0-1234-56789abcdef0"),
        ("{12345678-9abc-def0-1234-56789abcdef0}", "12345678-9abc-def0-1234-56789abcdef0"),
        ("urn:uuid:12345678-9abc-def0-1234-56789abcdef0", "12345678-9abc-def0-1234-56789abcdef0"),
        ("123456789ABCDEF0123456789ABCDEF0", "12345678-9abc-def0-1234-56789abcdef0"),
        ("0x3456789abcdef0123456789abcdef0", "00345678-9abc-def0-1234-56789abcdef0"),
        ("+23456789abcdef0123456789abcdef0", "02345678-9abc-def0-1234-56789abcdef0"),
        (" 23456789abcdef0123456789abcdef0", "02345678-9abc-def0-1234-56789abcdef0"),
        ("1_3456789abcdef0123456789abcdef0", "01345678-9abc-def0-1234-56789abcdef0"),
        ("-0000000000000000000000000000000", nil), ("bad", nil), ("12345678-9abc-def0-1234-56789abcdef", nil),
        ("{{12345678-9abc-def0-1234-56789abcdef0}}", "12345678-9abc-def0-1234-56789abcdef0"),
        ("uuid:urn:12345678-9abc-def0-1234-56789abcdef0", "12345678-9abc-def0-1234-56789abcdef0"),
        ("1__3456789abcdef0123456789abcdef0", nil), ("g2345678-9abc-def0-1234-56789abcdef0", nil),
    ] as [(String, String?)])
    func uuidsParseAsPython(_ text: String, _ expected: String?) {
        // Expected values from CPython 3.11 uuid.UUID(text).
        #expect(FlaskTag.parseUUID(text)?.uuidString.lowercased() == expected)
    }

    // MARK: Inspection and interplay with Session

    @Test func inspection() throws {
        let codec = try FlaskSessionCodec(secretKey: "k")
        let cookie = try codec.encode(data(["_flashes": .list([.tuple([.string("message"), .string("Hi")])])]), context: Self.context)
        let report = codec.inspect(cookie[...], context: Self.context)
        #expect(report.rejection == nil)
        #expect(report.verification == .currentKey)
        #expect(report.issuedAt == Self.now)
        #expect(report.json.map { String(decoding: $0, as: UTF8.self) } == #"{"_flashes":[{" t":["message","Hi"]}]}"#)
        #expect(report.session == .dict([FlaskDictEntry("_flashes", .list([.tuple([.string("message"), .string("Hi")])]))]))

        let unverified = FlaskSessionCodec.inspectUnverified(cookie[...])
        #expect(unverified.verification == .notChecked)
        #expect(unverified.session == report.session)
        #expect(unverified.issuedAt == Self.now)
        let wrongKey = try FlaskSessionCodec(secretKey: "other").inspect(cookie[...], context: Self.context)
        #expect(wrongKey.rejection == .badSignature)
        #expect(wrongKey.session == nil)
    }

    @Test func swiftValuesRoundTripThroughFlaskCookies() throws {
        let codec = try FlaskSessionCodec(secretKey: "k")
        let session = Session()
        session["cart"] = ["apple", "pear"]
        session["count"] = 3
        session.flash("Saved", category: "success")
        session.isPermanent = true
        let cookie = try codec.encode(SessionData(values: session.snapshot().values), context: Self.context)
        guard case .valid(let read, _) = codec.decode(cookie[...], context: Self.context) else {
            Issue.record("must decode")
            return
        }
        let loaded = Session(data: read)
        #expect(loaded["cart", as: [String].self] == ["apple", "pear"])
        #expect(loaded["count", as: Int.self] == 3)
        #expect(loaded.isPermanent)
        #expect(loaded.consumeFlashes() == [FlashMessage(category: "success", text: "Saved")])
        // Flask types read through Codable use their plain forms.
        let typed = try SessionValue(flask: .tuple([.bytes([104, 105]), .uuid(UUID(uuidString: "12345678-9abc-def0-1234-56789abcdef0")!)]))
            .decode([String].self)
        #expect(typed == ["aGk=", "12345678-9abc-def0-1234-56789abcdef0"])
        #expect(try SessionValue(flask: .bytes([104, 105])).decode(Data.self) == Data("hi".utf8))
        #expect(try SessionValue(flask: .datetime(1_704_164_645)).decode(Date.self) == Date(timeIntervalSince1970: 1_704_164_645))
        #expect(try SessionValue(flask: .uuid(UUID(uuidString: "12345678-9abc-def0-1234-56789abcdef0")!)).decode(UUID.self)
            == UUID(uuidString: "12345678-9abc-def0-1234-56789abcdef0"))
        #expect(try SessionValue(flask: .double(.infinity)).decode(Double.self) == .infinity)
        #expect(try SessionValue(flask: .list([.double(-.infinity)])).decode([Double].self) == [-.infinity])
    }
}

extension SessionDecodeResult {
    var isValid: Bool {
        if case .valid = self { return true }
        return false
    }
}
