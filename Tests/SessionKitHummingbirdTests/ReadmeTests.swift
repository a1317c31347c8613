import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SessionKit
import SessionKitHummingbird
import SessionKitHummingbirdTesting
import Testing

/// The README's seed tutorial, as written there, run like a browser would.
@Suite("README")
struct ReadmeTests {
    static func tutorialRouter(environment: [String: String]) throws -> Router<BasicSessionKitRequestContext> {
        let router = Router(context: BasicSessionKitRequestContext.self)
        router.add(middleware: try SessionKitMiddleware(secret: .environment("SESSIONKIT_SECRET", environment: environment)))
        router.get("/") { _, context in
            context.session["username"] = "liefyuan"
            return "success"
        }
        router.get("/get") { _, context in
            context.session["username", as: String.self] ?? ""
        }
        router.get("/strict") { _, context in
            try context.session.require("username", as: String.self)
        }
        router.get("/delete/") { _, context in
            context.session.remove("username")
            return "success"
        }
        router.get("/clear") { _, context in
            context.session.clear()
            return "success"
        }
        router.post("/login") { _, context in
            context.session.regenerateID()
            context.session["user"] = "alice"
            context.session.isPermanent = true
            context.session.flash("Welcome back")
            return "ok"
        }
        router.get("/cookie/set") { _, _ in
            var response = Response(status: .ok)
            response.setCookie(try SetCookie(name: "user", value: "liefyuan", maxAge: 3600 * 24 * 7, httpOnly: true, sameSite: .lax))
            return response
        }
        router.get("/cookie/get") { _, context in context.cookies.first("user") ?? "no cookie" }
        router.get("/cookie/delete") { _, _ in
            var response = Response(status: .ok)
            try response.deleteCookie(named: "user", httpOnly: true, sameSite: .lax)
            return response
        }
        return router
    }

    @Test func tutorialWorksAsDescribed() async throws {
        let environment = ["SESSIONKIT_SECRET": SessionSecret.generateText()]
        try await Application(router: Self.tutorialRouter(environment: environment)).test(.router) { client in
            let browser = SessionTestClient(client)
            func body(_ uri: String, _ method: HTTPRequest.Method = .get) async throws -> String {
                let response = try await browser.execute(uri: uri, method: method)
                return "\(response.status.code) \(String(buffer: response.body))"
            }
            var result = ""
            result = try await body("/get")
            #expect(result == "200 ")
            result = try await body("/strict")
            #expect(result.hasPrefix("500 "))
            result = try await body("/")
            #expect(result == "200 success")
            result = try await body("/get")
            #expect(result == "200 liefyuan")
            result = try await body("/strict")
            #expect(result == "200 liefyuan")
            result = try await body("/delete/")
            #expect(result == "200 success")
            result = try await body("/get")
            #expect(result == "200 ")
            result = try await body("/login", .post)
            #expect(result == "200 ok")
            result = try await body("/clear")
            #expect(result == "200 success")
            result = try await body("/cookie/get")
            #expect(result == "200 no cookie")
            result = try await body("/cookie/set")
            #expect(result == "200 ")
            result = try await body("/cookie/get")
            #expect(result == "200 liefyuan")
            result = try await body("/cookie/delete")
            #expect(result == "200 ")
            result = try await body("/cookie/get")
            #expect(result == "200 no cookie")
        }
    }

    @Test func missingSecretIsAClearStartupError() {
        do {
            _ = try Self.tutorialRouter(environment: [:])
            Issue.record("started without a secret")
        } catch let error as SessionError {
            #expect(error.code == .configuration)
            #expect(error.message.contains("SESSIONKIT_SECRET"))
            #expect(error.message.contains("sessionkit secret"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
