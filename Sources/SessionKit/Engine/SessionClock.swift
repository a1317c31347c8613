import Foundation

/// Time in whole Unix seconds, as sessions measure it; tests inject their own clock.
///
/// ```swift
/// let engine = SessionEngine(codec: codec, clock: { 1_700_000_000 })
/// ```
public enum SessionClock {
    /// The system clock, in Unix seconds.
    public static let system: @Sendable () -> Int64 = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }

    static func date(_ seconds: Int64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
