import ArgumentParser
import Foundation
import SessionKit

/// Where the tool takes the secret and the fallbacks from.
struct SecretOptions: ParsableArguments {
    @Option(help: "The secret as text (UTF-8), as Flask's str SECRET_KEY.")
    var secret: String?
    @Option(help: "The secret as hexadecimal bytes, as Flask's bytes SECRET_KEY.")
    var secretHex: String?
    @Option(help: "A file holding the secret (trailing newline removed).")
    var secretFile: String?
    @Option(help: "An older secret that still verifies, as text; repeat in SECRET_KEY_FALLBACKS order (oldest first).")
    var fallback: [String] = []
    @Option(help: "An older secret as hexadecimal bytes; repeat, oldest first (after any --fallback).")
    var fallbackHex: [String] = []

    /// The current secret: from the options or `SESSIONKIT_SECRET`.
    func current() throws -> SessionSecret {
        let given = [secret != nil, secretHex != nil, secretFile != nil].filter { $0 }.count
        guard given <= 1 else { throw ValidationError("give only one of --secret, --secret-hex and --secret-file") }
        if let secret { return SessionSecret(text: secret) }
        if let secretHex {
            guard let parsed = SessionSecret(hex: secretHex) else { throw ValidationError("--secret-hex is not hexadecimal") }
            return parsed
        }
        if let secretFile {
            guard let data = FileManager.default.contents(atPath: secretFile) else { throw ValidationError("cannot read --secret-file \(secretFile)") }
            var bytes = Array(data)
            while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
            return SessionSecret(bytes: bytes)
        }
        if let text = ProcessInfo.processInfo.environment["SESSIONKIT_SECRET"], !text.isEmpty { return SessionSecret(text: text) }
        throw ValidationError("no secret: pass --secret, --secret-hex or --secret-file, or set SESSIONKIT_SECRET")
    }

    /// The fallbacks, oldest first (Flask's order).
    func fallbacks() throws -> [SessionSecret] {
        let hex = try fallbackHex.map { text -> SessionSecret in
            guard let parsed = SessionSecret(hex: text) else { throw ValidationError("--fallback-hex \(text.prefix(8))… is not hexadecimal") }
            return parsed
        }
        return fallback.map(SessionSecret.init(text:)) + hex
    }

    /// The codec for `format` under these secrets.
    func codec(_ format: SessionCookieFormat) throws -> any SessionCodec {
        let current = try current()
        let fallbacks = try fallbacks()
        switch format {
        case .flask:
            return try FlaskSessionCodec(secretKey: current.bytes, fallbacks: fallbacks.map(\.bytes))
        case .encrypted:
            return EncryptedSessionCodec(keys: try KeyRing(current: current, previous: fallbacks.reversed()))
        case .signed:
            return SignedSessionCodec(keys: try KeyRing(current: current, previous: fallbacks.reversed()))
        }
    }
}

extension SessionCookieFormat: ExpressibleByArgument {}
