import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SessionKit
import SessionKitHummingbird
import SessionKitHummingbirdTesting
import Testing

/// The seeds' cookie half through Hummingbird: set_cookie, request.cookies.get, delete_cookie.
@Suite("Cookie helpers")
struct CookieHelperTests {
    static func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/set") { _, _ in
            var response = Response(status: .ok)
            response.setCookie(try SetCookie(name: "user", value: "liefyuan", maxAge: 3600, path: "/", httpOnly: true, sameSite: .lax))
            return response
        }
        router.get("/get") { request, _ in request.cookieValue("user") ?? "no cookie" }
        router.get("/all") { request, _ in request.cookieValues("user").joined(separator: ",") }
        router.get("/delete") { _, _ in
            var response = Response(status: .ok)
            try response.deleteCookie(named: "user", httpOnly: true, sameSite: .lax)
            return response
        }
        router.get("/delete-scoped") { _, _ in
            var response = Response(status: .ok)
            response.deleteCookie(try SetCookie(name: "__Host-pref", value: "x", secure: true, partitioned: true))
            return response
        }
        return router
    }

    @Test func setGetDeleteLikeABrowser() async throws {
        try await Application(router: Self.router()).test(.router) { client in
            let browser = SessionTestClient(client)
            #expect(String(buffer: try await browser.execute(uri: "/get").body) == "no cookie")
            let set = try await browser.execute(uri: "/set")
            #expect(set.headers[.setCookie] == "user=liefyuan; Max-Age=3600; HttpOnly; Path=/; SameSite=Lax")
            #expect(String(buffer: try await browser.execute(uri: "/get").body) == "liefyuan")
            let deleted = try await browser.execute(uri: "/delete")
            #expect(deleted.headers[.setCookie] == "user=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/; SameSite=Lax")
            #expect(String(buffer: try await browser.execute(uri: "/get").body) == "no cookie")
        }
    }

    @Test func deletionEchoesEveryScopingAttribute() async throws {
        try await Application(router: Self.router()).test(.router) { client in
            let response = try await client.execute(uri: "/delete-scoped", method: .get)
            #expect(response.headers[.setCookie] == "__Host-pref=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; Path=/; Partitioned")
        }
    }

    @Test func allValuesInHeaderOrder() async throws {
        try await Application(router: Self.router()).test(.router) { client in
            let response = try await client.execute(uri: "/all", method: .get, headers: [.cookie: #"user=a; other=1; user="b,c""#])
            #expect(String(buffer: response.body) == "a,b,c")
        }
    }
}
