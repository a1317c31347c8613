import Logging
import ServiceLifecycle

/// A `Service` that calls ``SessionStore/removeExpired()`` every `interval` until graceful shutdown
/// or cancellation; failures are logged and retried at the next interval. The built-in stores run
/// one from their own `run()`; use this one for a store that is not a `Service` itself.
///
/// ```swift
/// let cleanup = SessionStoreCleanupService(store: myStore, interval: .seconds(60))
/// let group = ServiceGroup(configuration: .init(services: [app, cleanup], logger: logger))
/// try await group.run()
/// ```
public struct SessionStoreCleanupService: Service {
    let store: any SessionStore
    let interval: Duration
    let logger: Logger

    public init(store: any SessionStore, interval: Duration = .seconds(60), logger: Logger = Logger(label: "SessionKit.cleanup")) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// Runs until graceful shutdown or cancellation, then returns normally.
    public func run() async throws {
        let store = self.store
        let interval = self.interval
        let logger = self.logger
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                do {
                    let removed = try await store.removeExpired()
                    if removed > 0 { logger.debug("removed expired sessions", metadata: ["count": "\(removed)"]) }
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    logger.warning("removing expired sessions failed", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
        }
    }
}
