import Foundation

/// How many times longer the package's tests' time limits may be: `SESSIONKIT_TIME_SCALE` (a whole
/// number), 1 when unset. `scripts/test --sanitize thread|address` sets it, as sanitized code runs
/// 5-20 times slower and its runs on a loaded two-core machine missed limits that are hang detectors.
///
/// Only for limits on how long something may take, and for the patience of what waits around the
/// thing tested; never for the timeouts and sleeps whose effect a test checks, so that what a test
/// proves is unchanged.
///
/// ```swift
/// #expect(ContinuousClock.now - start < TestTimeScale.limit(.seconds(30)), "must fail, not hang")
/// ```
package enum TestTimeScale {
    /// `SESSIONKIT_TIME_SCALE`, or 1.
    package static let factor: Int = {
        guard let text = ProcessInfo.processInfo.environment["SESSIONKIT_TIME_SCALE"], let value = Int(text), value >= 1 else { return 1 }
        return value
    }()

    /// `limit` times ``factor``.
    package static func limit(_ limit: Duration) -> Duration { limit * factor }
}
