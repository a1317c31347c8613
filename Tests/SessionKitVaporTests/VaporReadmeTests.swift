import Foundation
import NIOCore
import SessionKit
import SessionKitVapor
import Testing
import Vapor
import VaporTesting

/// The README's Vapor tutorial, as written there (the secret from a given environment).
@Suite("README, Vapor")
struct VaporReadmeTests {
    static func configure(_ app: Application, environment: [String: String]) async throws {
        app.middleware.use(try SessionKitVaporMiddleware(secret: .environment("SESSIONKIT_SECRET", environment: environment)))
        try routes(app)
    }

    static func routes(_ app: Application) throws {
        app.get { req -> String in
            req.sessionKit["username"] = "liefyuan"
            return "success"
        }
        app.get("get") { req in req.sessionKit["username", as: String.self] ?? "" }
        app.get("delete") { req -> String in
            req.sessionKit.remove("username")
            return "success"
        }
        app.get("clear") { req -> String in
            req.sessionKit.clear()
            return "success"
        }
        app.post("login") { req -> String in
            req.sessionKit.login(userID: "42")
            req.sessionKit.isPermanent = true
            req.sessionKit.flash("Welcome back")
            return "welcome"
        }
        app.post("logout") { req -> String in
            req.sessionKit.invalidate()
            return "bye"
        }
        // Not in the README: to see what the tutorial left.
        app.get("state") { req in "\(req.sessionKit.userID ?? "-") \(req.sessionKit.consumeFlashes().map(\.text))" }
    }

    @Test func tutorialWorksAsDescribed() async throws {
        let environment = ["SESSIONKIT_SECRET": SessionSecret.generateText()]
        try await withTestApp({ app in try await Self.configure(app, environment: environment) }) { app in
            let browser = Browser(app)
            #expect(try await browser.get("get").text == "")
            #expect(try await browser.get("/").text == "success")
            #expect(try await browser.get("get").text == "liefyuan")
            #expect(try await browser.get("delete").text == "success")
            #expect(try await browser.get("get").text == "")
            try await browser.get("/")
            #expect(try await browser.get("clear").text == "success")
            #expect(try await browser.get("get").text == "")
            #expect(browser.cookie("session") == nil)
        }
        try await withTestApp({ app in try await Self.configure(app, environment: environment) }) { app in
            var headers = HTTPHeaders()
            let login = try await app.testing().sendRequest(.POST, "login", headers: headers)
            #expect(login.text == "welcome")
            let cookie = try #require(login.cookiePair("session"))
            #expect(login.setCookies.first?.contains("Expires=") == true, "permanent")
            headers.add(name: .cookie, value: cookie)
            let state = try await app.testing().sendRequest(.GET, "state", headers: headers)
            #expect(state.text == "42 [\"Welcome back\"]")
            let logout = try await app.testing().sendRequest(.POST, "logout", headers: headers)
            #expect(logout.setCookies.first?.contains("Max-Age=0") == true)
        }
    }
}
