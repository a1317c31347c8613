import ArgumentParser
import Foundation
import Logging
import SessionKit
import SessionKitDemoSupport
import SessionKitVapor
import Vapor

/// `swift run sessionkit-vapor-demo`: the demo's tutorial routes (the routes of Flask's reference
/// app, `Tests/Interop/flask_ref_app.py`) on Vapor 4 with `SessionKitVaporMiddleware`, on
/// 127.0.0.1:8080. It takes the options of `sessionkit-demo` (the Hummingbird demo), so the Flask
/// interop suite runs against either (`SESSIONKIT_INTEROP_PEER=vapor`). The Hummingbird demo's
/// HTML pages (`/app`) are not served here.
///
/// ```sh
/// sessionkit-vapor-demo --flask-compat --secret "$SECRET" --port 5001
/// ```
@main
struct VaporDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessionkit-vapor-demo",
        abstract: "The SessionKit demo's tutorial routes (Flask's reference app) on Vapor.",
        discussion: "Try http://127.0.0.1:8080/?username=bob then /get. The secret comes from --secret, --secret-file, SESSIONKIT_SECRET or SESSIONKIT_SECRET_FILE (a file is not shown by `ps`); without one a random secret is made and cookie sessions do not survive a restart."
    )

    @OptionGroup var arguments: DemoArguments

    func run() async throws {
        var logger = Logger(label: "sessionkit-vapor-demo")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let options = try arguments.options(logger: logger)
        let store: (any SessionUserIndex)?
        let sessions: SessionKitVaporMiddleware
        do {
            store = try await DemoServerStore.open(options: options, logger: logger)
            sessions = try VaporDemoRoutes.sessionMiddleware(options: options, store: store, logger: logger)
        } catch let error as SessionError {
            throw ValidationError(error.message)
        } catch let error as SessionStoreError {
            // The stores' messages never contain a password.
            throw ValidationError("--store \(arguments.store): \(error.message)")
        }

        // No arguments for Vapor's own command line: `serve` with the address configured below.
        let app = try await Application.make(Environment(name: "production", arguments: ["sessionkit-vapor-demo"]))
        app.logger = logger
        app.http.server.configuration.hostname = arguments.host
        app.http.server.configuration.port = arguments.port
        if let store {
            app.lifecycle.use(SessionKitStoreLifecycle(store: store))
        }
        // The security headers wrap the error middleware, so 404s and errors get them too.
        app.middleware = Middlewares()
        app.middleware.use(VaporDemoSecurityHeaders())
        app.middleware.use(RouteLoggingMiddleware(logLevel: .info))
        app.middleware.use(ErrorMiddleware.default(environment: app.environment))
        VaporDemoRoutes(
            reads: app.grouped(sessions),
            // Requests that change state: a cross-site one is refused before the session is loaded.
            changes: app.grouped(VaporDemoCrossSiteGuard()).grouped(sessions)
        ).addTutorialRoutes(namesTheUser: store != nil)

        let storage = options.flaskCompatible ? "flask cookies" : (store == nil ? "\(options.cookieFormat.rawValue) cookies" : "server-side sessions in \(arguments.store)")
        logger.info("sessionkit-vapor-demo on http://\(arguments.host):\(arguments.port)/ (\(storage))")
        do {
            try await app.execute()
        } catch {
            try await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
