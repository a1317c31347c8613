import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SessionKit
import SessionKitDemoApp
import SessionKitDemoSupport

/// `swift run sessionkit-demo`: the demo web app on 127.0.0.1:8080.
@main
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessionkit-demo",
        abstract: "The SessionKit demo web app: the seeds' Flask routes, a login, a cart.",
        discussion: "Open http://127.0.0.1:8080/app in a browser. The secret comes from --secret, --secret-file, SESSIONKIT_SECRET or SESSIONKIT_SECRET_FILE (a file is not shown by `ps`); without one a random secret is made and sessions do not survive a restart."
    )

    @OptionGroup var arguments: DemoArguments

    func run() async throws {
        var logger = Logger(label: "sessionkit-demo")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let options = try arguments.options(logger: logger)
        let store = arguments.store
        let demo: DemoApp
        do {
            demo = try await DemoApp(options: options, logger: logger)
        } catch let error as SessionError {
            throw ValidationError(error.message)
        } catch let error as SessionStoreError {
            // The stores' messages never contain a password.
            throw ValidationError("--store \(store): \(error.message)")
        }
        let app = Application(router: demo.router, configuration: .init(address: .hostname(arguments.host, port: arguments.port), serverName: "sessionkit-demo"), services: demo.services, logger: logger)
        let storage = options.flaskCompatible ? "flask cookies" : (demo.store == nil ? "\(options.cookieFormat.rawValue) cookies" : "server-side sessions in \(store)")
        logger.info("sessionkit-demo on http://\(arguments.host):\(arguments.port)/app (\(storage))")
        try await app.runService()
    }
}
