/// The three cookie formats SessionKit reads, and how to tell them apart from a cookie value alone
/// (for tools; a server knows its format).
///
/// ```swift
/// SessionCookieFormat.detect("eyJ1c2VybmFtZSI6ImFsaWNlIn0.ZVPxAA.xewjHM3zIFFtK5dWW93S8OnpPTI") // .flask
/// ```
public enum SessionCookieFormat: String, Sendable, CaseIterable {
    case encrypted
    case signed
    case flask

    /// The format a cookie value is in, or `nil` when it is none of them. Flask cookies have dots;
    /// native ones are one base64url string whose first byte is the format's version.
    public static func detect(_ cookieValue: Substring) -> SessionCookieFormat? {
        if cookieValue.contains(".") { return .flask }
        guard let bytes = Base64URL.decode(cookieValue), let version = bytes.first else { return nil }
        switch version {
        case NativeCookieEnvelope.encryptedAESGCM, NativeCookieEnvelope.encryptedChaChaPoly: return .encrypted
        case NativeCookieEnvelope.signedHMACSHA256: return .signed
        default: return nil
        }
    }
}
