import ArgumentParser
import Foundation
import SessionKit

/// Where the tool takes the secret and the fallbacks from.
struct SecretOptions: ParsableArguments {
    @Option(help: "The secret as text (UTF-8), as Flask's str SECRET_KEY.")
    var secret: String?
    @Option(help: "The secret as hexadecimal bytes, as Flask's bytes SECRET_KEY.")
    var secretHex: String?
    @Option(help: "A file holding the secret (trailing newline removed); default: $SESSIONKIT_SECRET_FILE. Unlike --secret, not shown by `ps`.")
    var secretFile: String?
    @Option(help: "An older secret that still verifies, as text; repeat in SECRET_KEY_FALLBACKS order (oldest first).")
    var fallback: [String] = []
    @Option(help: "An older secret as hexadecimal bytes; repeat, oldest first (after any --fallback).")
    var fallbackHex: [String] = []
    @Option(help: "A file of older secrets as text, one a line, oldest first (after any --fallback-hex); repeat. Without any fallback option: $SESSIONKIT_SECRET_FALLBACKS (comma-separated) or $SESSIONKIT_SECRET_FALLBACKS_FILE.")
    var fallbackFile: [String] = []

    /// The current secret: from the options, `SESSIONKIT_SECRET` or the file `SESSIONKIT_SECRET_FILE`.
    func current() throws -> SessionSecret {
        let given = [secret != nil, secretHex != nil, secretFile != nil].filter { $0 }.count
        guard given <= 1 else { throw ValidationError("give only one of --secret, --secret-hex and --secret-file") }
        if let secret { return SessionSecret(text: secret) }
        if let secretHex {
            guard let parsed = SessionSecret(hex: secretHex) else { throw ValidationError("--secret-hex is not hexadecimal") }
            return parsed
        }
        if let secretFile {
            return try SecretFile.secret(at: secretFile, option: "--secret-file")
        }
        let environment = ProcessInfo.processInfo.environment
        let text = environment["SESSIONKIT_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        let file = environment["SESSIONKIT_SECRET_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if text != nil, file != nil { throw ValidationError("set only one of SESSIONKIT_SECRET and SESSIONKIT_SECRET_FILE") }
        if let text { return SessionSecret(text: text) }
        if let file { return try SecretFile.secret(at: file, option: "SESSIONKIT_SECRET_FILE") }
        throw ValidationError("no secret: pass --secret, --secret-hex or --secret-file, or set SESSIONKIT_SECRET or SESSIONKIT_SECRET_FILE")
    }

    /// The fallbacks, oldest first (Flask's order).
    func fallbacks() throws -> [SessionSecret] {
        let hex = try fallbackHex.map { text -> SessionSecret in
            guard let parsed = SessionSecret(hex: text) else { throw ValidationError("--fallback-hex \(text.prefix(8))… is not hexadecimal") }
            return parsed
        }
        let files = try fallbackFile.flatMap { try SecretFile.secrets(at: $0, option: "--fallback-file") }
        let given = fallback.map(SessionSecret.init(text:)) + hex + files
        guard given.isEmpty else { return given }
        let environment = ProcessInfo.processInfo.environment
        let list = environment["SESSIONKIT_SECRET_FALLBACKS"].flatMap { $0.isEmpty ? nil : $0 }
        let file = environment["SESSIONKIT_SECRET_FALLBACKS_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if list != nil, file != nil { throw ValidationError("set only one of SESSIONKIT_SECRET_FALLBACKS and SESSIONKIT_SECRET_FALLBACKS_FILE") }
        if let list { return list.split(separator: ",").map { SessionSecret(text: String($0)) } }
        if let file { return try SecretFile.secrets(at: file, option: "SESSIONKIT_SECRET_FALLBACKS_FILE") }
        return []
    }

    /// The codec for `format` under these secrets.
    func codec(_ format: CookieSessionFormat) throws -> any SessionCodec {
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

extension CookieSessionFormat: ExpressibleByArgument {}
