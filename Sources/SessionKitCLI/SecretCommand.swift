import ArgumentParser
import SessionKit

/// `sessionkit secret`: a new random secret for `SESSIONKIT_SECRET`.
struct SecretCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret",
        abstract: "Print a new random secret (32 bytes from the system's CSPRNG, base64url).",
        discussion: "Use it as SESSIONKIT_SECRET, e.g. export SESSIONKIT_SECRET=$(sessionkit secret)"
    )

    func run() {
        print(SessionSecret.generateText())
    }
}
