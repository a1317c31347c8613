import ArgumentParser
import SessionKit

@main
struct SessionKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sessionkit", abstract: "Inspect and create SessionKit and Flask session cookies.")
}
