import Foundation
import Testing
@testable import SessionKit

/// Every `flask_response_vectors` entry through the engine with Flask's defaults: the same
/// Set-Cookie headers, byte for byte, and the same Vary, as the real Flask 3.1 app.
@Suite("Flask response vectors")
struct FlaskResponseVectorTests {
    static var vectors: [[String: Any]] { FlaskVectors.all["flask_response_vectors"] as! [[String: Any]] }
    static var ids: [String] { vectors.map { $0["id"] as! String } }

    /// The view functions of the vector generator's app.
    static func handle(_ path: String, _ session: Session) -> String {
        switch path {
        case "/set_perm":
            session["username"] = "alice"
            session.isPermanent = true
            return "ok"
        case "/set_user":
            session["username"] = "alice"
            return "ok"
        case "/noop": return "noop"
        case "/clear":
            session.clear()
            return "ok"
        case "/pop":
            session.remove("username")
            return "ok"
        case "/read":
            return session["username", as: String.self] ?? "not set"
        case "/mutate_nested":
            // Flask mutates session["d"]["y"] in place: not tracked, nothing written.
            _ = session.rawValue("d")
            return "ok"
        default:
            return "unknown"
        }
    }

    @Test(arguments: ids)
    func vector(id: String) async throws {
        let vector = Self.vectors.first { $0["id"] as? String == id }!
        let config = vector["config"] as? [String: Any] ?? [:]
        let request = vector["request"] as! [String: Any]
        let path = request["path"] as! String
        if path == "/big" {
            // Flask only warns and sends a cookie browsers drop; SessionKit refuses it (see the
            // oversize tests of SessionMiddleware), a deliberate difference.
            return
        }
        var configuration = SessionConfiguration.flaskDefaults
        if let name = config["SESSION_COOKIE_NAME"] as? String { configuration.cookie.name = name }
        if let domain = config["SESSION_COOKIE_DOMAIN"] as? String {
            configuration.cookie.domain = try SetCookie.werkzeugDomain(domain, cookie: configuration.cookie.name)
        }
        if let path = config["SESSION_COOKIE_PATH"] as? String { configuration.cookie.path = path }
        if let httpOnly = config["SESSION_COOKIE_HTTPONLY"] as? Bool { configuration.cookie.httpOnly = httpOnly }
        if let secure = config["SESSION_COOKIE_SECURE"] as? Bool { configuration.cookie.secure = secure }
        if let sameSite = config["SESSION_COOKIE_SAMESITE"] as? String { configuration.cookie.sameSite = SetCookie.SameSite(rawValue: sameSite) }
        if let refresh = config["SESSION_REFRESH_EACH_REQUEST"] as? Bool { configuration.refreshEachRequest = refresh }

        let secret = vector["secret_key"] as! String
        let fallbacks = (vector["secret_key_fallbacks"] as? [String]) ?? (config["SECRET_KEY_FALLBACKS"] as? [String]) ?? []
        let codec = try FlaskSessionCodec(secretKey: secret, fallbacks: fallbacks)
        let now = (vector["now"] as! NSNumber).int64Value
        let engine = SessionEngine(codec: codec, configuration: configuration, clock: { now })

        let cookies = RequestCookies(header: request["cookie_header"] as? String ?? "", decoding: .werkzeug)
        let session = try await engine.load(from: cookies)
        let body = Self.handle(path, session)
        #expect(body == vector["body"] as? String)
        let commit = try await engine.commit(session, status: 200)
        #expect(commit.setCookies.map(\.headerValue) == vector["set_cookie"] as! [String])
        #expect(commit.varyCookie == (vector["vary"] as? String == "Cookie"))
    }
}
