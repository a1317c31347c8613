/// What the two native formats share: the version bytes, the associated data that binds a cookie
/// to its name and purpose, the size limits, and the deadline checks.
enum NativeCookieEnvelope {
    /// Version byte of an AES-256-GCM encrypted cookie.
    static let encryptedAESGCM: UInt8 = 0x01
    /// Version byte of a ChaCha20-Poly1305 encrypted cookie.
    static let encryptedChaChaPoly: UInt8 = 0x02
    /// Version byte of an HMAC-SHA256 signed cookie.
    static let signedHMACSHA256: UInt8 = 0x81

    /// Browsers keep at most 4096 bytes of name and value; nothing longer was issued by us.
    static let maximumCookieLength = 4096

    /// The associated data bound into the tag or MAC: a valid cookie moved to another cookie name or
    /// used for another purpose does not verify. (The definition; the codecs build the same bytes
    /// on the stack with ``withAssociatedData(version:purpose:cookieName:_:)``, and a test holds the
    /// two equal.)
    static func associatedData(version: UInt8, purpose: String, cookieName: String) -> [UInt8] {
        var aad = Array("sessionkit".utf8)
        aad.append(0)
        aad.append(version)
        aad.append(contentsOf: purpose.utf8)
        aad.append(0)
        aad.append(contentsOf: cookieName.utf8)
        return aad
    }

    /// Calls `body` with ``associatedData(version:purpose:cookieName:)`` built in a stack buffer,
    /// without an allocation per cookie.
    static func withAssociatedData<Result>(
        version: UInt8, purpose: String, cookieName: String,
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        let prefix: StaticString = "sessionkit"
        let count = prefix.utf8CodeUnitCount + 2 + purpose.utf8.count + 1 + cookieName.utf8.count
        return try withUnsafeTemporaryAllocation(byteCount: count, alignment: 1) { buffer in
            var offset = prefix.utf8CodeUnitCount
            buffer.baseAddress!.copyMemory(from: prefix.utf8Start, byteCount: offset)
            buffer[offset] = 0
            buffer[offset + 1] = version
            offset += 2
            offset = append(purpose, to: buffer, at: offset)
            buffer[offset] = 0
            offset = append(cookieName, to: buffer, at: offset + 1)
            return try body(UnsafeRawBufferPointer(rebasing: buffer[..<offset]))
        }
    }

    /// Copies the UTF-8 of `string` into `buffer` at `offset` (in one copy where the string's storage
    /// allows, as native strings' does); returns the offset after it.
    private static func append(_ string: String, to buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let copied = string.utf8.withContiguousStorageIfAvailable { utf8 in
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]).copyMemory(from: UnsafeRawBufferPointer(utf8))
            return offset + utf8.count
        }
        if let copied { return copied }
        var offset = offset
        for byte in string.utf8 {
            buffer[offset] = byte
            offset += 1
        }
        return offset
    }

    /// The times a cookie issued now for `data` carries: issued now; first issued when `data` says
    /// (a re-issue) or now (a new session); valid until the lifetime or the session's absolute
    /// lifetime ends, whichever comes first.
    static func times(for data: SessionData, context: SessionCodecContext) -> (issuedAt: Int64, expiresAt: Int64, firstIssuedAt: Int64) {
        let now = context.now
        let firstIssuedAt = min(data.firstIssuedAt ?? now, now)
        var expiresAt = now.addingClamped(context.lifetime)
        if let absoluteLifetime = context.absoluteLifetime {
            expiresAt = min(expiresAt, firstIssuedAt.addingClamped(absoluteLifetime))
        }
        return (now, expiresAt, firstIssuedAt)
    }

    /// Checks an authenticated payload's times against `context`: the deadline it carries, and
    /// against the current configuration (not only the one it was issued under) its age since it
    /// was issued (``SessionCodecContext/lifetime``) and since its session was first issued
    /// (``SessionCodecContext/absoluteLifetime``). A cookie without a first-issue time (issued
    /// before it was recorded) counts its issue time as its first issue.
    static func check(_ data: SessionData, context: SessionCodecContext, clockSkewLeeway: Int64) -> SessionRejection? {
        guard let issuedAt = data.issuedAt, let expiresAt = data.expiresAt else { return .badPayload }
        let firstIssuedAt = data.firstIssuedAt ?? issuedAt
        // We never issue a session first issued after the cookie that carries it.
        guard firstIssuedAt <= issuedAt else { return .badPayload }
        let now = context.now
        if now > expiresAt { return .expired }
        if issuedAt > now.addingClamped(clockSkewLeeway) { return .expired }
        if now.subtractingClamped(issuedAt) > context.lifetime { return .expired }
        if let absoluteLifetime = context.absoluteLifetime, now.subtractingClamped(firstIssuedAt) > absoluteLifetime { return .expired }
        return nil
    }

    /// The base64url-decoded bytes of a cookie value, or why not.
    static func bytes(of cookieValue: Substring, minimumLength: Int) -> Result<[UInt8], SessionRejection> {
        guard cookieValue.utf8.count <= maximumCookieLength else { return .failure(.tooLarge) }
        guard let bytes = Base64URL.decode(cookieValue) else { return .failure(.malformed) }
        guard bytes.count >= minimumLength else { return .failure(.malformed) }
        return .success(bytes)
    }
}

extension Int64 {
    /// `self + other`, or the nearest bound when that overflows (an authenticated time may still
    /// be any 64-bit value).
    fileprivate func addingClamped(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, or the nearest bound when that overflows.
    fileprivate func subtractingClamped(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}
