import ArgumentParser

/// `sessionkit`: the tool a developer reaches for when a login misbehaves.
@main
struct SessionKitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessionkit",
        abstract: "Decode, verify and create SessionKit and Flask session cookies; make secrets.",
        subcommands: [DecodeCommand.self, EncodeCommand.self, SecretCommand.self, SessionsCommand.self]
    )
}
