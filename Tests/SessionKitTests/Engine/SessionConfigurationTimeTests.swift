import Logging
import Testing
@testable import SessionKit

/// The configuration's times are `Duration`s (issue 17), kept as whole seconds: converted once when
/// set, a fraction rounded up, and validated.
@Suite("Session configuration times")
struct SessionConfigurationTimeTests {
    @Test func defaultsAreFlasksAndTheServerSessionsLimits() {
        let configuration = SessionConfiguration()
        #expect(configuration.permanentLifetime == .seconds(31 * 24 * 3600))
        #expect(configuration.refreshInterval == .seconds(60))
        #expect(configuration.idleTimeout == .seconds(2 * 3600))
        #expect(configuration.absoluteLifetime == .seconds(90 * 24 * 3600))
        #expect(SessionConfiguration.flaskDefaults.refreshInterval == .zero)
    }

    @Test func durationsBecomeWholeSecondsOnce() {
        var configuration = SessionConfiguration()
        configuration.permanentLifetime = .seconds(3600)
        #expect(configuration.permanentLifetimeSeconds == 3600)
        configuration.idleTimeout = .milliseconds(1500)
        #expect(configuration.idleTimeoutSeconds == 2)
        #expect(configuration.idleTimeout == .seconds(2))
        configuration.absoluteLifetime = .milliseconds(1)
        #expect(configuration.absoluteLifetimeSeconds == 1)
        configuration.refreshInterval = .zero
        #expect(configuration.refreshIntervalSeconds == 0)
        configuration.refreshInterval = .seconds(-1) + .milliseconds(1)
        #expect(configuration.refreshIntervalSeconds == 0)
        #expect(SessionConfiguration.wholeSeconds(.seconds(Int64.max)) == .max)
        #expect(SessionConfiguration.wholeSeconds(.seconds(Int64.max) + .nanoseconds(1)) == .max)
    }

    @Test func validationRefusesTimesThatAreNotPositive() throws {
        try SessionConfiguration().validate()
        let invalid: [(inout SessionConfiguration) -> Void] = [
            { $0.permanentLifetime = .zero },
            { $0.idleTimeout = .seconds(-5) },
            { $0.absoluteLifetime = .zero },
            { $0.refreshInterval = .seconds(-1) },
        ]
        for change in invalid {
            var configuration = SessionConfiguration()
            change(&configuration)
            #expect(throws: SessionError.self) { try configuration.validate() }
        }
        var subSecond = SessionConfiguration()
        subSecond.idleTimeout = .milliseconds(10)
        try subSecond.validate()
    }

    /// The engine computes with the converted seconds: a cookie's deadline is its lifetime.
    @Test func theEngineUsesTheConvertedSeconds() async throws {
        var configuration = SessionConfiguration()
        configuration.permanentLifetime = .seconds(600)
        let codec = EncryptedSessionCodec(keys: try KeyRing(current: SessionSecret(text: String(repeating: "duration-tests-", count: 3))))
        let engine = SessionEngine(codec: codec, configuration: configuration, logger: .init(label: "test"), clock: { 1_800_000_000 })
        let session = try await engine.load(from: RequestCookies())
        session["k"] = "v"
        session.isPermanent = true
        let cookie = try #require(try await engine.commit(session).setCookies.first)
        guard case .valid(let data, _) = codec.decode(cookie.value[...], context: engine.codecContext(now: 1_800_000_000)) else {
            Issue.record("did not decode"); return
        }
        #expect(data.expiresAt == 1_800_000_600)
    }
}
