import Crypto
import Logging
import Synchronization
import Testing
@testable import SessionKit

/// Cookie sessions end when the current configuration says (audit issue 15, finding 2): a cookie's
/// age is checked against today's `permanentLifetime`, not only against the deadline written into
/// it, and its session's age since the first issue (carried inside the cookie, kept by every
/// re-issue) against `absoluteLifetime`, so re-issuing cannot keep a stolen cookie alive forever.
@Suite("Cookie session lifetimes")
struct CookieLifetimeTests {
    static let secret = SessionSecret(text: "cookie-lifetime-tests-secret-0123456789-current")
    static let newSecret = SessionSecret(text: "cookie-lifetime-tests-secret-0123456789-rotated")
    static let start: Int64 = 1_800_000_000
    static let day: Int64 = 86_400

    enum Format: String, CaseIterable, Sendable { case aesGCM, chaChaPoly, signed, flask }
    enum NativeFormat: String, CaseIterable, Sendable { case aesGCM, chaChaPoly, signed }

    /// A clock the tests move by hand.
    final class Clock: Sendable {
        private let value = Atomic<Int64>(CookieLifetimeTests.start)
        var now: Int64 { value.load(ordering: .sequentiallyConsistent) }
        func advance(by seconds: Int64) { value.add(seconds, ordering: .sequentiallyConsistent) }
        var function: @Sendable () -> Int64 { { self.now } }
    }

    static func codec(_ format: Format, current: SessionSecret = secret, previous: [SessionSecret] = []) throws -> any SessionCodec {
        switch format {
        case .aesGCM: return EncryptedSessionCodec(keys: try KeyRing(current: current, previous: previous))
        case .chaChaPoly: return EncryptedSessionCodec(keys: try KeyRing(current: current, previous: previous), algorithm: .chaCha20Poly1305)
        case .signed: return SignedSessionCodec(keys: try KeyRing(current: current, previous: previous))
        case .flask: return try FlaskSessionCodec(secretKey: current.bytes, fallbacks: previous.reversed().map(\.bytes))
        }
    }

    static func engine(_ codec: any SessionCodec, _ clock: Clock, configure: (inout SessionConfiguration) -> Void = { _ in }) -> SessionEngine {
        var configuration = SessionConfiguration()
        configure(&configuration)
        return SessionEngine(codec: codec, configuration: configuration, logger: Logger(label: "test"), clock: clock.function)
    }

    /// One request: the session the cookie carries (`nil`: refused, a new session), after `handle`,
    /// and the cookie the response sets (`nil`: none; the old cookie stays).
    static func request(
        _ engine: SessionEngine, cookie: String?, handle: (Session) -> Void = { _ in }
    ) async throws -> (loaded: Bool, setCookie: SetCookie?) {
        let session = try await engine.load(from: RequestCookies(header: cookie.map { "session=\($0)" } ?? ""))
        let loaded = session.loaded != nil
        handle(session)
        let commit = try await engine.commit(session)
        return (loaded, commit.setCookies.first)
    }

    static func newCookie(_ engine: SessionEngine) async throws -> String {
        let response = try await request(engine, cookie: nil) { session in
            session["user"] = "ada"
            session.isPermanent = true
        }
        return try #require(response.setCookie).value
    }

    // (a) Lowering permanentLifetime shortens cookies already issued.
    @Test(arguments: Format.allCases)
    func loweredLifetimeRefusesOlderCookies(format: Format) async throws {
        let clock = Clock()
        let codec = try Self.codec(format)
        let issuedUnder30Days = Self.engine(codec, clock) { $0.permanentLifetime = .seconds(30 * Self.day) }
        let cookie = try await Self.newCookie(issuedUnder30Days)
        clock.advance(by: 2 * 3600)

        // Still valid under the configuration it was issued under...
        #expect(try await Self.request(issuedUnder30Days, cookie: cookie).loaded, "\(format)")
        // ...but not after the incident response cut the lifetime to an hour.
        let cutTo1Hour = Self.engine(codec, clock) { $0.permanentLifetime = .seconds(3600) }
        let refused = try await Self.request(cutTo1Hour, cookie: cookie)
        #expect(!refused.loaded, "\(format): a 2-hour-old cookie was accepted under a 1-hour lifetime")
        // A fresh cookie under the new lifetime still works.
        let fresh = try await Self.newCookie(cutTo1Hour)
        clock.advance(by: 1800)
        #expect(try await Self.request(cutTo1Hour, cookie: fresh).loaded, "\(format)")
    }

    // (b) Re-issuing on every request cannot outlive absoluteLifetime.
    @Test(arguments: NativeFormat.allCases)
    func refreshedCookieEndsAtTheAbsoluteLifetime(format: NativeFormat) async throws {
        let clock = Clock()
        let engine = Self.engine(try Self.codec(Format(rawValue: format.rawValue)!), clock) {
            $0.permanentLifetime = .seconds(2 * Self.day)
            $0.absoluteLifetime = .seconds(10 * Self.day)
            $0.refreshEachRequest = true
            $0.refreshInterval = .zero
        }
        var cookie = try await Self.newCookie(engine)
        var lastAcceptedDay: Int64?
        for day in Int64(1)...30 {
            clock.advance(by: Self.day)
            let response = try await Self.request(engine, cookie: cookie) { _ = $0["user", as: String.self] }
            guard response.loaded else { break }
            lastAcceptedDay = day
            // Every request slides the cookie: a new one each day.
            cookie = try #require(response.setCookie, "day \(day)").value
        }
        #expect(lastAcceptedDay == 10, "\(format): the cookie was re-issued until day \(lastAcceptedDay.map(String.init) ?? "none")")
    }

    // (c) The first issue survives regenerateID and key rotation; invalidate + a new session restarts it.
    @Test(arguments: NativeFormat.allCases)
    func firstIssueSurvivesReissuesButNotInvalidation(format: NativeFormat) async throws {
        let clock = Clock()
        let oldCodec = try Self.codec(Format(rawValue: format.rawValue)!)
        let rotatedCodec = try Self.codec(Format(rawValue: format.rawValue)!, current: Self.newSecret, previous: [Self.secret])
        let engine = Self.engine(oldCodec, clock)
        let rotated = Self.engine(rotatedCodec, clock)
        func times(_ cookie: String) throws -> SessionData {
            let context = rotated.codecContext(now: clock.now)
            guard case .valid(let data, _) = rotatedCodec.decode(cookie[...], context: context) else {
                Issue.record("cookie did not decode"); throw SessionRejection.malformed
            }
            return data
        }

        let first = try await Self.newCookie(engine)
        #expect(try times(first).firstIssuedAt == Self.start)

        clock.advance(by: 100)
        let regenerated = try #require(try await Self.request(engine, cookie: first) { $0.regenerateID() }.setCookie).value
        #expect(try times(regenerated).issuedAt == Self.start + 100)
        #expect(try times(regenerated).firstIssuedAt == Self.start)

        clock.advance(by: 100)
        let rotation = try await Self.request(rotated, cookie: regenerated) { _ = $0["user", as: String.self] }
        #expect(rotation.loaded)
        let reissued = try #require(rotation.setCookie, "no re-issue after key rotation").value
        #expect(try times(reissued).issuedAt == Self.start + 200)
        #expect(try times(reissued).firstIssuedAt == Self.start)

        clock.advance(by: 100)
        let changed = try #require(try await Self.request(rotated, cookie: reissued) { $0["theme"] = "dark" }.setCookie).value
        #expect(try times(changed).firstIssuedAt == Self.start)

        clock.advance(by: 100)
        let logout = try await Self.request(rotated, cookie: changed) { $0.invalidate() }
        #expect(logout.setCookie?.maxAge == 0)
        let next = try await Self.newCookie(rotated)
        #expect(try times(next).firstIssuedAt == Self.start + 400)
    }

    /// A native cookie as SessionKit issued it before the first issue was recorded: its payload ends
    /// after the values.
    static func legacyCookie(_ format: NativeFormat, values: [String: SessionValue], issuedAt: Int64, expiresAt: Int64) throws -> String {
        var payload: [UInt8] = []
        SessionPayload.encode(SessionData(values: values), issuedAt: issuedAt, expiresAt: expiresAt, firstIssuedAt: 0, into: &payload)
        payload.removeLast(8)
        let keys = try KeyRing(current: secret)
        switch format {
        case .signed:
            let key = keys.derive(purpose: "sessionkit/signed/v1")[0]
            let message = [NativeCookieEnvelope.signedHMACSHA256, key.id] + payload
            let aad = NativeCookieEnvelope.associatedData(version: NativeCookieEnvelope.signedHMACSHA256, purpose: "session", cookieName: "session")
            return Base64URL.encode(message + Array(HMAC<SHA256>.authenticationCode(for: aad + message, using: key.key)))
        case .aesGCM, .chaChaPoly:
            let key = keys.derive(purpose: "sessionkit/encrypted/v1")[0]
            let version = format == .aesGCM ? NativeCookieEnvelope.encryptedAESGCM : NativeCookieEnvelope.encryptedChaChaPoly
            let aad = NativeCookieEnvelope.associatedData(version: version, purpose: "session", cookieName: "session")
            let sealed: [UInt8] = format == .aesGCM
                ? Array(try AES.GCM.seal(payload, using: key.key, authenticating: aad).combined!)
                : Array(try ChaChaPoly.seal(payload, using: key.key, authenticating: aad).combined)
            return Base64URL.encode([version, key.id] + sealed)
        }
    }

    /// Cookies issued before this change still read; their issue time counts as their first issue,
    /// which the next re-issue carries on (so their absolute lifetime runs from that issue).
    @Test(arguments: NativeFormat.allCases)
    func cookiesWithoutFirstIssueStillRead(format: NativeFormat) async throws {
        let clock = Clock()
        let codec = try Self.codec(Format(rawValue: format.rawValue)!)
        let engine = Self.engine(codec, clock) { $0.absoluteLifetime = .seconds(10 * Self.day) }
        let legacy = try Self.legacyCookie(
            format, values: ["user": try SessionValue(encoding: "ada"), "_permanent": try SessionValue(encoding: true)],
            issuedAt: Self.start, expiresAt: Self.start + 31 * Self.day
        )
        guard case .valid(let data, _) = codec.decode(legacy[...], context: engine.codecContext(now: clock.now)) else {
            Issue.record("\(format): a cookie without a first issue was refused"); return
        }
        #expect(data.firstIssuedAt == nil && data.issuedAt == Self.start)

        clock.advance(by: 3600)
        let response = try await Self.request(engine, cookie: legacy) { $0["theme"] = "dark" }
        #expect(response.loaded)
        let reissued = try #require(response.setCookie).value
        guard case .valid(let next, _) = codec.decode(reissued[...], context: engine.codecContext(now: clock.now)) else {
            Issue.record("re-issued cookie did not decode"); return
        }
        #expect(next.firstIssuedAt == Self.start)
        #expect(next.expiresAt == Self.start + 10 * Self.day)

        // An old cookie older than the absolute lifetime (and within its own deadline) is refused.
        clock.advance(by: 11 * Self.day)
        let old = try Self.legacyCookie(format, values: ["user": try SessionValue(encoding: "ada")], issuedAt: clock.now - 11 * Self.day, expiresAt: clock.now + Self.day)
        #expect(!(try await Self.request(engine, cookie: old).loaded))
    }

    /// The payload takes exactly one first-issue time after the values, never after the cookie
    /// itself, and nothing else.
    @Test func payloadTrailerIsStrict() throws {
        let values = ["k": try SessionValue(encoding: "v")]
        var payload: [UInt8] = []
        SessionPayload.encode(SessionData(values: values), issuedAt: 100, expiresAt: 200, firstIssuedAt: 50, into: &payload)
        #expect(SessionPayload.decode(payload[...])?.firstIssuedAt == 50)
        let legacy = try #require(SessionPayload.decode(payload.dropLast(8)))
        #expect(legacy.firstIssuedAt == nil && legacy.issuedAt == 100)
        for cut in 1..<8 { #expect(SessionPayload.decode(payload.dropLast(cut)) == nil, "\(cut) bytes short") }
        #expect(SessionPayload.decode((payload + [0])[...]) == nil)

        let context = SessionCodecContext(cookieName: "session", now: 150, lifetime: 100, absoluteLifetime: 1000)
        let later = SessionData(values: values, issuedAt: 100, expiresAt: 200, firstIssuedAt: 101)
        #expect(NativeCookieEnvelope.check(later, context: context, clockSkewLeeway: 0) == .badPayload)
        // Times at the edges of Int64 are refused, not trapped on.
        let extreme = SessionData(values: values, issuedAt: .min, expiresAt: .max, firstIssuedAt: .min)
        #expect(NativeCookieEnvelope.check(extreme, context: context, clockSkewLeeway: .max) == .expired)
    }
}
