import Crypto

/// Flask's session cookie (Flask 3.1, itsdangerous 2.2), byte for byte: tagged JSON, zlib when it
/// saves at least 2 bytes, a big-endian timestamp, and HMAC-SHA1 under the key derived from the
/// secret with the salt `cookie-session`. A Swift service and a Flask app that share the secret read
/// and write each other's sessions.
///
/// ```swift
/// let codec = try FlaskSessionCodec(secretKey: "dev-secret-key", fallbacks: ["old-key"])
/// let context = SessionCodecContext(cookieName: "session", now: 1_700_000_000, lifetime: 2_678_400)
/// var data = SessionData()
/// data.values["username"] = try SessionValue(encoding: "alice")
/// let cookie = try codec.encode(data, context: context)
/// // eyJ1c2VybmFtZSI6ImFsaWNlIn0.ZVPxAA.<signature>
/// if case .valid(let read, let needsReissue) = codec.decode(cookie[...], context: context) {
///     print(read.values.keys, needsReissue)
/// }
/// ```
///
/// Verification follows itsdangerous: the current key, then the fallbacks from the last to the
/// first (pass them in the order of Flask's `SECRET_KEY_FALLBACKS`); a cookie that verifies under a
/// fallback decodes with `needsReissue: true`. Signing uses the current key only. The cookie name is
/// not bound into the MAC (Flask does not bind it).
///
/// Where Flask differs from this codec on purpose: Flask answers HTTP 500 for an authentic cookie
/// whose payload does not decode or whose top level is not a mapping; this codec rejects it as
/// ``SessionRejection/badPayload`` and the session starts empty. Cookies over `maxCookieLength` are
/// rejected before any decoding, and a compressed payload that inflates past `maxDecompressedSize`
/// is a bad payload.
///
/// Smaller differences, all for cookies Flask itself never writes: JSON nested deeper than 128
/// levels is a bad payload (Python allows about 1000); a lone surrogate escape (`"\ud800"`) reads
/// as U+FFFD; a top level of `[key, value]` pairs with non-string keys, and a `" m"` tag around a
/// list or dict (Python would `repr` it), are bad payloads; top-level keys that differ only by
/// Unicode normalization share one `SessionData.values` entry (Swift `String` equality).
public struct FlaskSessionCodec: SessionCodec, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `"flask"`.
    public var formatName: String { "flask" }
    /// Seconds a timestamp may lie in the future before the cookie counts as expired (Flask: 0).
    public var clockSkewLeeway: Int64
    /// Longer cookie values are rejected as ``SessionRejection/tooLarge`` before decoding, and
    /// ``encode(_:context:)`` refuses to produce them.
    public var maxCookieLength: Int
    /// The most bytes a compressed payload may inflate to.
    public var maxDecompressedSize: Int

    /// HMAC-SHA1 keyed with HMAC-SHA1(secret, "cookie-session") for the current key, ready to
    /// take the message (copied per use, so the key schedule is computed once).
    let signingMAC: HMAC<Insecure.SHA1>
    /// The keyed MACs in the order they are tried: current, then fallbacks last to first.
    let verificationMACs: [HMAC<Insecure.SHA1>]

    /// A codec for Flask's `SECRET_KEY` as bytes and `SECRET_KEY_FALLBACKS` (oldest first, as Flask
    /// lists them). Throws ``SessionError/Code/configuration`` for an empty key.
    public init(
        secretKey: [UInt8],
        fallbacks: [[UInt8]] = [],
        clockSkewLeeway: Int64 = 0,
        maxCookieLength: Int = 8192,
        maxDecompressedSize: Int = 65_536
    ) throws {
        guard !secretKey.isEmpty, !fallbacks.contains(where: \.isEmpty) else {
            throw SessionError(.configuration, "a Flask secret key must not be empty")
        }
        self.signingMAC = HMAC(key: Self.deriveKey(secretKey))
        self.verificationMACs = [signingMAC] + fallbacks.reversed().map { HMAC(key: Self.deriveKey($0)) }
        self.clockSkewLeeway = max(0, clockSkewLeeway)
        self.maxCookieLength = maxCookieLength
        self.maxDecompressedSize = maxDecompressedSize
    }

    /// A codec for string secrets, UTF-8 encoded as Flask does.
    public init(
        secretKey: String,
        fallbacks: [String] = [],
        clockSkewLeeway: Int64 = 0,
        maxCookieLength: Int = 8192,
        maxDecompressedSize: Int = 65_536
    ) throws {
        try self.init(
            secretKey: Array(secretKey.utf8),
            fallbacks: fallbacks.map { Array($0.utf8) },
            clockSkewLeeway: clockSkewLeeway,
            maxCookieLength: maxCookieLength,
            maxDecompressedSize: maxDecompressedSize
        )
    }

    /// itsdangerous' `key_derivation="hmac"`: HMAC-SHA1(key = secret, message = "cookie-session").
    static func deriveKey(_ secret: [UInt8]) -> SymmetricKey {
        SymmetricKey(data: derivedKeyBytes(secret))
    }

    /// The derived key's bytes (for tests).
    static func derivedKeyBytes(_ secret: [UInt8]) -> [UInt8] {
        Array(HMAC<Insecure.SHA1>.authenticationCode(for: Array("cookie-session".utf8), using: SymmetricKey(data: secret)))
    }

    public var description: String {
        "FlaskSessionCodec(keys: 1 current + \(verificationMACs.count - 1) fallback, secrets hidden)"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["fallbackKeyCount": verificationMACs.count - 1, "maxCookieLength": maxCookieLength], displayStyle: .struct)
    }

    // MARK: Encoding

    /// The cookie value for `data` at `context.now`: every value keeps its Flask type (values set
    /// from Swift are written from their JSON).
    public func encode(_ data: SessionData, context: SessionCodecContext) throws -> String {
        var entries: [FlaskDictEntry] = []
        entries.reserveCapacity(data.values.count)
        for (key, value) in data.values {
            do {
                entries.append(FlaskDictEntry(key, try value.flaskValue()))
            } catch {
                throw SessionError(.encodingFailed, "session key '\(key)' does not hold valid JSON")
            }
        }
        return try sign(session: entries, timestamp: context.now)
    }

    /// Flask's `dumps`: the cookie value for a session given as its top-level entries, signed at
    /// `timestamp` (Unix seconds) with the current key.
    public func sign(session entries: [FlaskDictEntry], timestamp: Int64) throws -> String {
        guard timestamp >= 0 else { throw SessionError(.encodingFailed, "a Flask cookie timestamp cannot be negative") }
        var writer = FlaskJSONWriter(tagged: true)
        writer.writeDict(entries)
        guard !writer.invalid else { throw SessionError(.encodingFailed, "a big integer value is not a decimal integer") }
        let json = writer.output

        var output: [UInt8] = []
        // Compress when zlib saves at least 2 bytes (itsdangerous: len(z) < len(json) - 1).
        if json.count > 2, let compressed = FlaskZlib.compress(json), compressed.count < json.count - 1 {
            output.reserveCapacity(Base64URL.encodedCount(compressed.count) + 40)
            output.append(UInt8(ascii: "."))
            Base64URL.encode(compressed, into: &output)
        } else {
            output.reserveCapacity(Base64URL.encodedCount(json.count) + 40)
            Base64URL.encode(json, into: &output)
        }
        output.append(UInt8(ascii: "."))
        // int_to_bytes: unsigned big-endian, leading zero bytes stripped (0 is the empty string).
        var stamp: [UInt8] = []
        var remaining = UInt64(timestamp)
        while remaining > 0 {
            stamp.insert(UInt8(truncatingIfNeeded: remaining), at: 0)
            remaining >>= 8
        }
        Base64URL.encode(stamp, into: &output)
        output.append(UInt8(ascii: "."))
        appendSignature(to: &output, signedCount: output.count - 1)
        guard output.count <= maxCookieLength else {
            throw SessionError(.cookieTooLarge, "the Flask session cookie would be \(output.count) bytes, over the \(maxCookieLength)-byte limit")
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// A cookie from raw `payload` and `timestamp` fields, signed with the current key (for tests
    /// and crafted cookies).
    func signFields(payload: String, timestamp: String) -> String {
        signRaw(payload + "." + timestamp)
    }

    /// `signed + "." + signature` for any text (for tests and crafted cookies).
    func signRaw(_ signed: String) -> String {
        var output = Array(signed.utf8)
        output.append(UInt8(ascii: "."))
        appendSignature(to: &output, signedCount: output.count - 1)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the base64url HMAC of `output[..<signedCount]` under the current key.
    private func appendSignature(to output: inout [UInt8], signedCount: Int) {
        var mac = signingMAC
        mac.update(data: output[..<signedCount])
        Base64URL.encode(Array(mac.finalize()), into: &output)
    }

    // MARK: Decoding

    /// Verifies and decodes a cookie value as Flask's `open_session` does, with `context.lifetime`
    /// as `max_age`.
    public func decode(_ cookieValue: Substring, context: SessionCodecContext) -> SessionDecodeResult {
        let inspection = inspect(cookieValue, context: context)
        if let rejection = inspection.rejection { return .rejected(rejection) }
        guard case .dict(let entries)? = inspection.session else { return .rejected(.badPayload) }
        var values: [String: SessionValue] = [:]
        values.reserveCapacity(entries.count)
        for entry in entries { values[entry.key] = SessionValue(flask: entry.value) }
        return .valid(SessionData(values: values, issuedAt: inspection.issuedAt), needsReissue: inspection.verification != .currentKey)
    }
}
