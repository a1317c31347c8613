import Foundation

/// Time in whole Unix seconds, as sessions measure it: the one clock of SessionKit. The engine,
/// every built-in store and the Vapor driver take a clock, `@Sendable () -> Int64`, that defaults
/// to ``system``; tests inject their own.
///
/// ```swift
/// let store = MemorySessionStore(clock: SessionClock.system)
/// let engine = SessionEngine(codec: codec, clock: { 1_700_000_000 })   // a fixed time, in a test
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
