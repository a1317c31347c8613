import ArgumentParser
import Hummingbird
import SessionKitHummingbird

@main
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sessionkit-demo", abstract: "The SessionKit demo web app.")
}
