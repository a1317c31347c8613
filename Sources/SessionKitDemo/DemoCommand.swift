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
    @Option(help: "Seconds a connection may go without a complete request before the server closes it: a keep-alive connection between requests, and a request whose headers are not complete (Hummingbird has no separate header-read timeout).")
    var idleTimeout: Double = DemoServerLimits.defaultIdleTimeout / .seconds(1)

    func validate() throws {
        guard idleTimeout.isFinite, idleTimeout >= 0.001, idleTimeout <= 86_400 else {
            throw ValidationError("--idle-timeout must be between 0.001 and 86400 seconds")
        }
    }

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
        let limits = DemoServerLimits(idleTimeout: .milliseconds(Int64((idleTimeout * 1000).rounded())))
        let app = Application(router: demo.router, server: limits.server, configuration: .init(address: .hostname(arguments.host, port: arguments.port), serverName: "sessionkit-demo"), services: demo.services, logger: logger)
        let storage = options.flaskCompatible ? "flask cookies" : (demo.store == nil ? "\(options.cookieFormat.rawValue) cookies" : "server-side sessions in \(store)")
        logger.info("sessionkit-demo on http://\(arguments.host):\(arguments.port)/app (\(storage))")
        try await app.runService()
    }
}
