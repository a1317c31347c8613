public import ArgumentParser
import Foundation
public import Logging
import SessionKit

/// The command-line options both demo servers take (`sessionkit-demo` on Hummingbird and
/// `sessionkit-vapor-demo` on Vapor), so the same flags and environment variables start either:
/// where it listens, the secret and its fallbacks (from options, files or the environment), the
/// cookie format, the store and the session lifetime.
///
/// ```swift
/// struct Command: AsyncParsableCommand {
///     @OptionGroup var arguments: DemoArguments
///     func run() async throws {
///         let options = try arguments.options(logger: Logger(label: "demo"))
///     }
/// }
/// ```
public struct DemoArguments: ParsableArguments {
    @Option(help: "The address to listen on.") public var host = "127.0.0.1"
    @Option(help: "The port to listen on.") public var port = 8080
    @Option(help: "The session secret (Flask's SECRET_KEY); default: $SESSIONKIT_SECRET. Shown by `ps`: prefer --secret-file.") var secret: String?
    @Option(help: "A file holding the session secret (trailing newline removed); default: $SESSIONKIT_SECRET_FILE.") var secretFile: String?
    @Option(name: .customLong("fallback-secret"), help: "An older secret that still verifies (Flask's SECRET_KEY_FALLBACKS; repeat, oldest first); default: $SESSIONKIT_SECRET_FALLBACKS, comma-separated, or the file $SESSIONKIT_SECRET_FALLBACKS_FILE.")
    var fallbackSecrets: [String] = []
    @Option(name: .customLong("fallback-secret-file"), help: "A file of older secrets, one a line, oldest first (after any --fallback-secret); repeat.")
    var fallbackSecretFiles: [String] = []
    @Flag(help: "Use Flask 3.1's cookie format and Flask's default cookie attributes.") public var flaskCompat = false
    @Option(help: "Cookie format when not Flask-compatible: encrypted or signed.") public var format: DemoOptions.CookieFormatName = .encrypted
    @Flag(help: "Mark cookies Secure (needs https in front of the demo).") public var secureCookies = false
    @Option(help: "Where sessions live: cookie, memory, sqlite[:PATH] (default: sqlite:./sessionkit-demo.sqlite), or a store shared by several demo processes: redis://[user[:password]@]host[:port][/db], rediss://... (TLS; ?ca=FILE), postgres://user[:password]@host[:port]/db[?sslmode=disable|require|verify-full&sslrootcert=FILE]. A password not in the URL comes from $SESSIONKIT_STORE_PASSWORD.")
    public var store: DemoStorage = .sqlite(path: DemoStorage.defaultSQLitePath)
    @Option(help: "Seconds a session lives (Flask's PERMANENT_SESSION_LIFETIME; default 31 days).")
    var sessionLifetime: Int64?

    public init() {}

    /// The demo's options from the arguments: the given secret (a random one, with a warning when
    /// cookies hold the sessions, if none is given), the fallbacks, the format and the store.
    /// Throws a `ValidationError` for an unusable secret file or for `--flask-compat` with a store.
    public func options(logger: Logger) throws -> DemoOptions {
        let secret: SessionSecret
        if let given = try givenSecret() {
            secret = given
        } else {
            secret = SessionSecret(text: SessionSecret.generateText())
            if flaskCompat || store == .cookie {
                logger.warning("no --secret, --secret-file, SESSIONKIT_SECRET or SESSIONKIT_SECRET_FILE: using a random secret, so cookie sessions will not survive a restart")
            }
        }
        if !secureCookies {
            logger.notice("cookies are not marked Secure: fine for plain-http development on loopback; pass --secure-cookies behind https")
        }
        if flaskCompat, store != .cookie, store != .sqlite(path: DemoStorage.defaultSQLitePath) {
            throw ValidationError("--flask-compat keeps sessions in Flask cookies; it cannot be combined with --store \(store)")
        }
        let fallbacks = try givenFallbacks()
        return DemoOptions(
            secret: secret, previousSecrets: fallbacks.reversed(), flaskCompatible: flaskCompat,
            secureCookies: secureCookies, cookieFormat: format, storage: store, sessionLifetime: sessionLifetime
        )
    }

    /// The secret from --secret, --secret-file, SESSIONKIT_SECRET or SESSIONKIT_SECRET_FILE (at most
    /// one of each pair); nil when none is given. A named file that cannot be read or is empty is an error.
    func givenSecret() throws -> SessionSecret? {
        if secret != nil, secretFile != nil { throw ValidationError("give only one of --secret and --secret-file") }
        if let secret, !secret.isEmpty { return SessionSecret(text: secret) }
        if let secretFile { return try SecretFile.secret(at: secretFile, option: "--secret-file") }
        let environment = ProcessInfo.processInfo.environment
        let text = environment["SESSIONKIT_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        let file = environment["SESSIONKIT_SECRET_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if text != nil, file != nil { throw ValidationError("set only one of SESSIONKIT_SECRET and SESSIONKIT_SECRET_FILE") }
        if let text { return SessionSecret(text: text) }
        if let file { return try SecretFile.secret(at: file, option: "SESSIONKIT_SECRET_FILE") }
        return nil
    }

    /// The fallbacks, oldest first: the options', else SESSIONKIT_SECRET_FALLBACKS (comma-separated)
    /// or the file SESSIONKIT_SECRET_FALLBACKS_FILE (one a line).
    func givenFallbacks() throws -> [SessionSecret] {
        let given = fallbackSecrets.map(SessionSecret.init(text:)) + (try fallbackSecretFiles.flatMap { try SecretFile.secrets(at: $0, option: "--fallback-secret-file") })
        guard given.isEmpty else { return given }
        let environment = ProcessInfo.processInfo.environment
        let list = environment["SESSIONKIT_SECRET_FALLBACKS"].flatMap { $0.isEmpty ? nil : $0 }
        let file = environment["SESSIONKIT_SECRET_FALLBACKS_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if list != nil, file != nil { throw ValidationError("set only one of SESSIONKIT_SECRET_FALLBACKS and SESSIONKIT_SECRET_FALLBACKS_FILE") }
        if let list { return list.split(separator: ",").map { SessionSecret(text: String($0)) } }
        if let file { return try SecretFile.secrets(at: file, option: "SESSIONKIT_SECRET_FALLBACKS_FILE") }
        return []
    }
}

extension DemoOptions.CookieFormatName: ExpressibleByArgument {}

extension DemoStorage: ExpressibleByArgument {}
