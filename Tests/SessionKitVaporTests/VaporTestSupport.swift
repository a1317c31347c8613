import Foundation
import NIOCore
import SessionKit
import SessionKitVapor
import Synchronization
import Testing
import Vapor
import VaporTesting

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let seconds: Mutex<Int64>
    init(_ start: Int64 = 1_700_000_000) { seconds = Mutex(start) }
    var now: Int64 { seconds.withLock { $0 } }
    func advance(_ delta: Int64) { seconds.withLock { $0 += delta } }
    var function: @Sendable () -> Int64 { { self.now } }
}

enum Fixture {
    static let secret = SessionSecret(text: "test-secret-test-secret-test-secret-0001")
    static let oldSecret = SessionSecret(text: "test-secret-test-secret-test-secret-0000")

    /// The tutorial's routes, in Vapor, on `req.sessionKit`.
    static func routes(_ app: Application) {
        app.get("set") { req -> String in
            req.sessionKit["username"] = (try? req.query.get(String.self, at: "username")) ?? "liefyuan"
            return "success"
        }
        app.get("get") { req in req.sessionKit["username", as: String.self] ?? "" }
        app.get("require") { req in try req.sessionKit.require("username", as: String.self) }
        app.get("pop") { req in req.sessionKit.remove("username", as: String.self) ?? "" }
        app.get("clear") { req -> String in
            req.sessionKit.clear()
            return "success"
        }
        app.get("permanent") { req -> String in
            req.sessionKit["username"] = "perm"
            req.sessionKit.isPermanent = true
            return "ok"
        }
        app.get("flash") { req -> String in
            req.sessionKit.flash((try? req.query.get(String.self, at: "message")) ?? "hello", category: "info")
            return "flashed"
        }
        app.get("flashes") { req in req.sessionKit.consumeFlashes().map { "\($0.category):\($0.text)" }.joined(separator: "|") }
        app.get("login") { req -> String in
            req.sessionKit.login(userID: (try? req.query.get(String.self, at: "user")) ?? "42")
            return "welcome"
        }
        app.get("whoami") { req in req.sessionKit.userID ?? "" }
        app.get("logout") { req -> String in
            req.sessionKit.invalidate()
            return "bye"
        }
        app.get("regenerate") { req -> String in
            req.sessionKit.regenerateID()
            return "ok"
        }
        app.get("noop") { _ in "noop" }
        app.get("counter") { req -> String in
            let n = req.sessionKit.get("n", default: 0) + 1
            req.sessionKit["n"] = n
            return "\(n)"
        }
        app.get("cart", "add") { req -> String in
            req.sessionKit.incrementField((try? req.query.get(String.self, at: "item")) ?? "apple", in: "cart")
            return "added"
        }
        app.get("cart") { req in
            let cart = req.sessionKit["cart", as: [String: Int].self] ?? [:]
            return cart.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
        app.get("big") { req -> String in
            req.sessionKit["blob"] = String(repeating: "x", count: (try? req.query.get(Int.self, at: "size")) ?? 5000)
            return "ok"
        }
        app.get("fail4xx") { req -> String in
            req.sessionKit.flash("try again")
            throw Abort(.unprocessableEntity)
        }
        app.get("fail5xx") { req -> String in
            req.sessionKit["half"] = "saved?"
            throw Abort(.internalServerError)
        }
        app.get("cookies") { req in req.sessionKitCookies.all("user").joined(separator: "|") }
        app.get("vary") { req -> Response in
            _ = req.sessionKit["username", as: String.self]
            let response = Response(status: .ok)
            response.headers.add(name: .vary, value: "Accept-Encoding")
            return response
        }
    }
}

/// A browser for the in-memory tester: keeps the cookies responses set and sends them back.
final class Browser: Sendable {
    let app: Application
    private let cookies = Mutex<[(name: String, value: String)]>([])

    init(_ app: Application) { self.app = app }

    var cookieHeader: String? {
        let pairs = cookies.withLock { $0 }
        return pairs.isEmpty ? nil : pairs.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
    }

    func cookie(_ name: String) -> String? { cookies.withLock { $0.first { $0.name == name }?.value } }

    func setCookie(_ name: String, _ value: String?) {
        cookies.withLock { jar in
            jar.removeAll { $0.name == name }
            if let value { jar.append((name, value)) }
        }
    }

    @discardableResult
    func get(_ path: String) async throws -> TestingHTTPResponse {
        var headers = HTTPHeaders()
        if let cookieHeader { headers.add(name: .cookie, value: cookieHeader) }
        let response = try await app.testing().sendRequest(.GET, path, headers: headers)
        for header in response.headers[.setCookie] {
            let pair = header.prefix { $0 != ";" }
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals])
            let expired = header.contains("Max-Age=0")
            setCookie(name, expired ? nil : String(pair[pair.index(after: equals)...]))
        }
        return response
    }
}

/// One request without a browser.
func send(_ app: Application, _ path: String, cookie: String? = nil) async throws -> TestingHTTPResponse {
    var headers = HTTPHeaders()
    if let cookie { headers.add(name: .cookie, value: cookie) }
    return try await app.testing().sendRequest(.GET, path, headers: headers)
}

extension TestingHTTPResponse {
    var text: String { String(buffer: body) }
    var setCookies: [String] { headers[.setCookie] }
    /// `name=value` of the first `Set-Cookie` for `name`.
    func cookiePair(_ name: String) -> String? {
        setCookies.first { $0.hasPrefix("\(name)=") }.map { String($0.prefix { $0 != ";" }) }
    }
}

/// An application with quiet logs, shut down after `body`.
func withTestApp<T>(_ configure: @escaping (Application) async throws -> Void, _ body: (Application) async throws -> T) async throws -> T {
    try await withApp(configure: { app in
        app.logger.logLevel = .warning
        try await configure(app)
    }, body)
}

/// SessionKit's session ID (Vapor has a `SessionID` too; `#require` cannot take the qualified
/// name's call, which it reads as a call on the module).
typealias KitSessionID = SessionKit.SessionID
