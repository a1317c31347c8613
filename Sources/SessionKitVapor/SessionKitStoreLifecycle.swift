public import Logging
public import SessionKit
import ServiceLifecycle
import Synchronization
public import Vapor

/// Runs a session store for as long as the Vapor application runs: from boot, the store's own
/// `run()` (the built-in stores are ServiceLifecycle `Service`s: they open or migrate, remove
/// expired sessions every `cleanupInterval` of their configuration, and, for PostgreSQL, run the
/// client); on shutdown, cancels it and waits until the store has closed its connections.
///
/// ```swift
/// let store = try PostgresSessionStore(url: Environment.get("DATABASE_URL")!)
/// app.lifecycle.use(SessionKitStoreLifecycle(store: store))
/// app.middleware.use(try SessionKitVaporMiddleware(store: store))
/// ```
///
/// A store of your own that is not a `Service` gets a `SessionStoreCleanupService`
/// every `cleanupInterval` instead.
public struct SessionKitStoreLifecycle: LifecycleHandler {
    let store: any SessionStore
    let cleanupInterval: Duration
    let logger: Logger
    private let running = RunningStore()

    /// A handler running `store`; `cleanupInterval` serves only a store that is not a `Service`.
    public init(store: any SessionStore, cleanupInterval: Duration = .seconds(60), logger: Logger = Logger(label: "SessionKit.lifecycle")) {
        self.store = store
        self.cleanupInterval = cleanupInterval
        self.logger = logger
    }

    /// Starts the store before the server accepts requests (a PostgreSQL store's client must run
    /// before its first query). Starting twice starts it once.
    public func willBoot(_ application: Application) throws {
        let store = self.store
        let interval = self.cleanupInterval
        let logger = self.logger
        running.start {
            do {
                if let service = store as? any Service {
                    try await service.run()
                } else {
                    try await SessionStoreCleanupService(store: store, interval: interval, logger: logger).run()
                }
            } catch is CancellationError {
            } catch {
                logger.error("the session store stopped", metadata: ["error": "\(String(describing: type(of: error)))"])
            }
        }
    }

    /// Cancels the store's run and waits until it has closed its connections.
    public func shutdownAsync(_ application: Application) async {
        await running.stop()?.value
    }

    /// Cancels the store's run (without waiting: prefer `app.asyncShutdown()`).
    public func shutdown(_ application: Application) {
        _ = running.stop()
    }
}

/// The task running a store, started once and stopped once.
private final class RunningStore: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)

    func start(_ body: @escaping @Sendable () async -> Void) {
        task.withLock { task in
            guard task == nil else { return }
            task = Task { await body() }
        }
    }

    /// Cancels the task and returns it, to wait for; `nil` when it was not running.
    func stop() -> Task<Void, Never>? {
        let running = task.withLock { task in
            defer { task = nil }
            return task
        }
        running?.cancel()
        return running
    }
}
