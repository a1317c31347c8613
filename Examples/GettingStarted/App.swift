import Foundation
import Hummingbird
import SessionKitHummingbird

@main
struct App {
    static func main() async {
        do {
            try await run()
        } catch {
            // A missing or short secret ends here: one line on stderr and a non-zero status.
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        let router = Router(context: BasicSessionKitRequestContext.self)
        router.add(middleware: try SessionKitMiddleware(secret: .environment("SESSIONKIT_SECRET")))   // SECRET_KEY

        router.get("/") { _, context in
            context.session["username"] = "liefyuan"                      // session['username'] = 'liefyuan'
            return "success"
        }
        router.get("/get") { _, context in
            context.session["username", as: String.self] ?? ""            // session.get('username')
        }
        router.get("/strict") { _, context in
            try context.session.require("username", as: String.self)      // session['username']: an error if missing
        }
        router.get("/delete/") { _, context in
            context.session.remove("username")                            // session.pop('username', None)
            return "success"
        }
        router.get("/clear") { _, context in
            context.session.clear()                                       // session.clear(): this session only
            return "success"
        }
        router.post("/login") { _, context in
            context.session.regenerateID()                                // a new session ID at login
            context.session["user"] = "alice"
            context.session.isPermanent = true                            // session.permanent = True (31 days)
            context.session.flash("Welcome back")                         // flash()
            return "ok"
        }

        let port = Int(ProcessInfo.processInfo.environment["PORT"] ?? "") ?? 8080
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}
