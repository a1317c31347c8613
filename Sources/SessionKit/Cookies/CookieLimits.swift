/// Bounds on the work spent parsing one request's `Cookie` header, so that a hostile header costs
/// bounded time and memory.
///
/// Past a limit the rest of the header is ignored: only the first `maxPairs` cookies are kept, and
/// only the first `maxHeaderBytes` bytes are looked at; a pair that is cut by the byte limit (its `;` is
/// neither within the limit nor the byte right after it) is dropped whole rather than kept with a
/// truncated value.
///
/// ```swift
/// let cookies = RequestCookies(header: header, limits: CookieLimits(maxPairs: 32, maxHeaderBytes: 8192))
/// ```
public struct CookieLimits: Sendable, Hashable {
    /// The most pairs kept (pairs with an empty name are skipped and not counted).
    public var maxPairs: Int
    /// The most bytes of the (joined) header that are scanned.
    public var maxHeaderBytes: Int

    public init(maxPairs: Int = 128, maxHeaderBytes: Int = 16 * 1024) {
        self.maxPairs = max(0, maxPairs)
        self.maxHeaderBytes = max(0, maxHeaderBytes)
    }

    /// 128 pairs and 16 KiB.
    public static let `default` = CookieLimits()
}
