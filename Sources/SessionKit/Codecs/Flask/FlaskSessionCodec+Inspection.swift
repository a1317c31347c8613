import Crypto

/// Cookie inspection: the detailed decode behind ``FlaskSessionCodec/decode(_:context:)``, an
/// unverified decode for debugging, and the payload steps both share.
///
/// ```swift
/// let report = codec.inspect(cookie[...], context: context)
/// let unchecked = FlaskSessionCodec.inspectUnverified(cookie[...])
/// ```
extension FlaskSessionCodec {
    /// Verifies and decodes a cookie value and reports every detail: the outcome, which key
    /// verified, the issue time, the JSON text and the decoded session.
    public func inspect(_ cookieValue: Substring, context: SessionCodecContext) -> FlaskCookieInspection {
        var inspection = FlaskCookieInspection()
        let utf8 = cookieValue.utf8
        guard utf8.count <= maxCookieLength else { return inspection.rejected(.tooLarge) }
        guard !utf8.isEmpty else { return inspection.rejected(.malformed) }
        let bytes = Array(utf8)
        // Signer.unsign: value, sig = signed_value.rsplit(".", 1).
        guard let signatureDot = bytes.lastIndex(of: UInt8(ascii: ".")) else { return inspection.rejected(.badSignature) }
        let signed = bytes[..<signatureDot]
        guard let signature = FlaskBase64.decodeItsdangerous(bytes[(signatureDot + 1)...]) else {
            return inspection.rejected(.badSignature)
        }
        // Constant-time comparison (swift-crypto's `==` on an authentication code), each key in turn.
        guard let keyIndex = verificationMACs.firstIndex(where: { prepared in
            var mac = prepared
            mac.update(data: signed)
            return mac.finalize() == signature
        }) else {
            return inspection.rejected(.badSignature)
        }
        inspection.verification = keyIndex == 0 ? .currentKey : .fallbackKey(index: verificationMACs.count - 1 - keyIndex)

        // TimestampSigner.unsign: payload, ts = value.rsplit(".", 1).
        guard let timestampDot = signed.lastIndex(of: UInt8(ascii: ".")) else { return inspection.rejected(.badTimestamp) }
        guard let timestamp = Self.decodeTimestamp(signed[(timestampDot + 1)...]) else { return inspection.rejected(.badTimestamp) }
        // age = now - ts; age > max_age or age < 0 (less the leeway) is expired.
        guard timestamp <= UInt64(Int64.max) else { return inspection.rejected(.expired) }
        let issuedAt = Int64(timestamp)
        inspection.issuedAt = issuedAt
        let (age, overflow) = context.now.subtractingReportingOverflow(issuedAt)
        guard !overflow, age <= context.lifetime, age >= -max(0, clockSkewLeeway) else { return inspection.rejected(.expired) }

        Self.decodePayload(signed[..<timestampDot], limit: maxDecompressedSize, into: &inspection)
        return inspection
    }

    /// Decodes a cookie's payload and timestamp without checking the signature or the age (for
    /// debugging, like `flask-unsign --decode`). Never use the result to trust a cookie.
    public static func inspectUnverified(_ cookieValue: Substring, maxDecompressedSize: Int = 65_536) -> FlaskCookieInspection {
        var inspection = FlaskCookieInspection()
        inspection.verification = .notChecked
        let bytes = Array(cookieValue.utf8)
        var signed = bytes[...]
        if let signatureDot = bytes.lastIndex(of: UInt8(ascii: ".")) { signed = bytes[..<signatureDot] }
        var payload = signed
        if let timestampDot = signed.lastIndex(of: UInt8(ascii: ".")) {
            payload = signed[..<timestampDot]
            if let timestamp = decodeTimestamp(signed[(timestampDot + 1)...]), timestamp <= UInt64(Int64.max) {
                inspection.issuedAt = Int64(timestamp)
            }
        }
        decodePayload(payload, limit: maxDecompressedSize, into: &inspection)
        return inspection
    }

    /// `bytes_to_int(base64_decode(ts))`: up to 8 bytes, big-endian; the empty field is 0.
    static func decodeTimestamp(_ field: ArraySlice<UInt8>) -> UInt64? {
        guard let bytes = FlaskBase64.decodeItsdangerous(field), bytes.count <= 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// `load_payload`: a leading `.` means zlib; base64, inflate (capped), strict UTF-8, JSON, untag,
    /// then Flask's `dict(data)`.
    static func decodePayload(_ payload: ArraySlice<UInt8>, limit: Int, into inspection: inout FlaskCookieInspection) {
        var payload = payload
        if payload.first == UInt8(ascii: ".") {
            inspection.compressed = true
            payload.removeFirst()
        }
        guard var json = FlaskBase64.decodeItsdangerous(payload) else {
            inspection.rejection = .badPayload
            return
        }
        if inspection.compressed {
            guard let inflated = FlaskZlib.decompress(json, limit: limit) else {
                inspection.rejection = .badPayload
                return
            }
            json = inflated
        }
        inspection.json = json
        guard let value = try? FlaskJSON.parseTagged(json), let entries = sessionEntries(value) else {
            inspection.rejection = .badPayload
            return
        }
        inspection.session = .dict(entries)
    }

    /// `SecureCookieSession(data)`, i.e. `dict(data)`: a dict as is, `null` as empty, an iterable of
    /// pairs as a dict. `nil` where Python raises, and for keys that are not strings (Flask would
    /// keep them; the Swift session has string keys only).
    static func sessionEntries(_ value: FlaskValue) -> [FlaskDictEntry]? {
        switch value {
        case .dict(let entries):
            return entries
        case .null:
            return []
        case .string(let string), .markup(let string):
            return string.isEmpty ? [] : nil
        case .bytes(let bytes):
            return bytes.isEmpty ? [] : nil
        case .list(let items), .tuple(let items):
            var entries: [FlaskDictEntry] = []
            for item in items {
                let pair: (FlaskValue, FlaskValue)
                switch item {
                case .list(let two) where two.count == 2, .tuple(let two) where two.count == 2:
                    pair = (two[0], two[1])
                case .string(let text) where text.unicodeScalars.count == 2, .markup(let text) where text.unicodeScalars.count == 2:
                    let scalars = Array(text.unicodeScalars)
                    pair = (.string(String(scalars[0])), .string(String(scalars[1])))
                case .dict(let two) where two.count == 2:
                    pair = (.string(two[0].key), .string(two[1].key))
                default:
                    return nil
                }
                guard case .string(let key) = pair.0 else {
                    guard case .markup(let key) = pair.0 else { return nil }
                    entries.append(FlaskDictEntry(key, pair.1))
                    continue
                }
                if let existing = entries.firstIndex(where: { $0.key.utf8.elementsEqual(key.utf8) }) {
                    entries[existing].value = pair.1
                } else {
                    entries.append(FlaskDictEntry(key, pair.1))
                }
            }
            return entries
        default:
            return nil
        }
    }
}
