public import Foundation
public import HTTPTypes
public import Hummingbird
public import HummingbirdTesting
public import SessionKit
import Synchronization

/// A test client that keeps cookies like a browser: it sends what its ``/SessionKit/CookieJar`` holds for each
/// request and stores every `Set-Cookie` of each response, so a test can log in, follow a flow and
/// log out.
///
/// ```swift
/// try await app.test(.router) { client in
///     let browser = SessionTestClient(client)
///     _ = try await browser.execute(uri: "/login", method: .post, form: [("username", "alice")])
///     let page = try await browser.execute(uri: "/get", method: .get)
///     #expect(String(buffer: page.body) == "alice")
/// }
/// ```
public final class SessionTestClient: Sendable {
    /// The client requests go through.
    public let client: any TestClientProtocol
    /// The origin the browser believes it talks to (https by default, so Secure cookies are kept).
    public let origin: URL
    private let jarState: Mutex<CookieJar>
    private let clock: @Sendable () -> Int64

    public init(_ client: any TestClientProtocol, origin: URL = URL(string: "https://localhost")!, clock: @escaping @Sendable () -> Int64 = SessionClock.system) {
        self.client = client
        self.origin = origin
        self.jarState = Mutex(CookieJar())
        self.clock = clock
    }

    /// The cookies the browser holds.
    public var jar: CookieJar { jarState.withLock { $0 } }

    /// Replaces or edits the jar (for tampering tests).
    public func withJar<Result>(_ body: (inout CookieJar) throws -> Result) rethrows -> Result {
        try jarState.withLock { try body(&$0) }
    }

    /// Sends a request with the jar's cookies and stores the response's cookies.
    @discardableResult
    public func execute(uri: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> TestResponse {
        let url = URL(string: uri, relativeTo: origin)!.absoluteURL
        let now = Date(timeIntervalSince1970: TimeInterval(clock()))
        var headers = headers
        if headers[.cookie] == nil, let cookieHeader = jar.cookieHeader(for: url, now: now) {
            headers[.cookie] = cookieHeader
        }
        let response = try await client.executeRequest(uri: uri, method: method, headers: headers, body: body)
        let setCookies = response.headers[values: .setCookie]
        if !setCookies.isEmpty {
            jarState.withLock { jar in
                for header in setCookies { jar.receive(setCookie: header, from: url, now: now) }
            }
        }
        return response
    }

    /// Sends a form (`application/x-www-form-urlencoded`).
    @discardableResult
    public func execute(uri: String, method: HTTPRequest.Method = .post, form: [(String, String)]) async throws -> TestResponse {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = form.map { key, value in
            "\(key.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await execute(uri: uri, method: method, headers: headers, body: ByteBuffer(string: body))
    }
}
