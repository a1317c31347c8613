import ArgumentParser
import Foundation
import SessionKit

/// `sessionkit decode`: verifies and decodes a session cookie.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Verify and decode a session cookie; print the session as JSON.",
        discussion: """
        Prints the session as JSON on stdout (for the flask format, Flask's canonical tagged JSON) and \
        the outcome (ok, bad_signature, bad_timestamp, expired, bad_payload, malformed, unknown_version, \
        too_large), issued-at and expiry on stderr. Exits 0 for ok, 1 otherwise. Without --format the \
        format is told from the cookie itself.
        """
    )

    @Option(help: "The cookie's format: flask, signed or encrypted (default: detected).")
    var format: CookieSessionFormat?
    @OptionGroup var secrets: SecretOptions
    @Option(help: "The cookie's name (native formats bind it into the MAC).")
    var cookieName = "session"
    @Option(help: "Seconds a cookie stays valid (Flask's PERMANENT_SESSION_LIFETIME).")
    var maxAge: Int64 = 31 * 24 * 3600
    @Option(help: "The time to check against, in Unix seconds (default: now).")
    var now: Int64?
    @Flag(help: "Show the payload of a signed or Flask cookie without a key, marked unverified.")
    var noVerify = false
    @Argument(help: "The cookie value (a leading `name=` is ignored).")
    var cookie: String

    func run() throws {
        let value = CookieArgument.value(of: cookie)
        guard let format = format ?? CookieSessionFormat.detect(value[...]) else {
            throw ValidationError("not a session cookie: neither Flask's payload.timestamp.signature nor a SessionKit base64url cookie")
        }
        let now = now ?? SessionClock.system()
        if noVerify { return try showUnverified(value, format: format) }
        let codec = try secrets.codec(format)
        let context = SessionCodecContext(cookieName: cookieName, now: now, lifetime: maxAge)
        var outcome = "ok"
        var issuedAt: Int64?
        var expiresAt: Int64?
        var json: String?
        if let flask = codec as? FlaskSessionCodec {
            let inspection = flask.inspect(value[...], context: context)
            issuedAt = inspection.issuedAt
            expiresAt = inspection.issuedAt.map { $0 + maxAge }
            if let rejection = inspection.rejection {
                outcome = rejection.rawValue
            } else {
                json = inspection.session.map { String(decoding: FlaskJSON.taggedBytes($0), as: UTF8.self) } ?? "{}"
                if case .fallbackKey(let index)? = inspection.verification { Output.error("verified_with: fallback \(index)") }
            }
        } else {
            switch codec.decode(value[...], context: context) {
            case .valid(let data, let needsReissue):
                issuedAt = data.issuedAt
                expiresAt = data.expiresAt
                json = Output.json(data.values)
                if needsReissue { Output.error("verified_with: an older secret") }
            case .rejected(let reason):
                outcome = reason.rawValue
            }
        }
        Output.error("format: \(format.rawValue)")
        Output.error("outcome: \(outcome)")
        if let issuedAt { Output.error("issued_at: \(issuedAt) (\(Output.iso(issuedAt)))") }
        if let expiresAt { Output.error("expires_at: \(expiresAt) (\(Output.iso(expiresAt)))") }
        guard let json else { throw ExitCode(1) }
        print(json)
    }

    private func showUnverified(_ value: String, format: CookieSessionFormat) throws {
        switch format {
        case .encrypted:
            throw ValidationError("an encrypted cookie cannot be read without its secret")
        case .signed:
            guard let data = SignedSessionCodec.unverifiedPayload(value[...]) else {
                Output.error("format: signed\noutcome: malformed")
                throw ExitCode(1)
            }
            Output.error("format: signed\noutcome: unverified (signature NOT checked)")
            if let issuedAt = data.issuedAt { Output.error("issued_at: \(issuedAt) (\(Output.iso(issuedAt)))") }
            if let expiresAt = data.expiresAt { Output.error("expires_at: \(expiresAt) (\(Output.iso(expiresAt)))") }
            print(Output.json(data.values))
        case .flask:
            let inspection = FlaskSessionCodec.inspectUnverified(value[...])
            guard let session = inspection.session else {
                Output.error("format: flask\noutcome: \(inspection.rejection?.rawValue ?? "bad_payload")")
                throw ExitCode(1)
            }
            Output.error("format: flask\noutcome: unverified (signature NOT checked)")
            if let issuedAt = inspection.issuedAt { Output.error("issued_at: \(issuedAt) (\(Output.iso(issuedAt)))") }
            print(String(decoding: FlaskJSON.taggedBytes(session), as: UTF8.self))
        }
    }
}

/// Cleans up a pasted cookie: whitespace, a `name=` prefix, surrounding quotes.
enum CookieArgument {
    static func value(of argument: String) -> String {
        var value = argument.trimmingCharacters(in: .whitespacesAndNewlines)
        if let equals = value.firstIndex(of: "=") { value = String(value[value.index(after: equals)...]) }
        if let semicolon = value.firstIndex(of: ";") { value = String(value[..<semicolon]) }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        return value
    }
}
