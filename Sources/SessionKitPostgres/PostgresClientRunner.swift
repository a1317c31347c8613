import Logging
import PostgresNIO
import ServiceLifecycle

/// Runs a `PostgresClient` until graceful shutdown or cancellation, then gives it a bounded time
/// to stop: what ``PostgresSessionStore/run()`` and the `sessionkit` tool do with their client.
///
/// Why bounded: postgres-nio (1.33) can fail to stop. Its pool's `run()` returns once every task
/// it started has ended, and a keep-alive `SELECT 1` written to a connection the pool has just
/// closed never ends (the write goes to a channel whose handlers are gone, and the statement's
/// promise is never completed; ``LeasedConnection`` says more). Seen in this package's tests: one
/// client in a few hundred, stopped while its 5-second keep-alive ran, never returned from
/// `run()`, so its test, and an app's graceful shutdown, would wait forever. After `grace`, this
/// logs a warning and returns, leaving that task behind (it holds no connection: all are closed).
///
/// ```swift
/// group.addTask { await PostgresClientRunner.run(client, grace: .seconds(5), logger: logger) }
/// ```
package enum PostgresClientRunner {
    /// Runs `client` (in a task of its own, with this task's task-locals, so graceful shutdown
    /// reaches it) until it stops, or until this task is cancelled or shut down gracefully; then
    /// cancels it and waits at most `grace` for it to stop.
    package static func run(_ client: PostgresClient, grace: Duration, logger: Logger) async {
        await run(grace: grace, logger: logger) { await client.run() }
    }

    /// Runs `body` as ``run(_:grace:logger:)`` runs a client's `run()`; returns whether it stopped
    /// (by itself, or within `grace` of being cancelled).
    @discardableResult
    package static func run(grace: Duration, logger: Logger, _ body: @escaping @Sendable () async -> Void) async -> Bool {
        let stopped = RaisedOnce()
        let running = Task {
            await body()
            stopped.raise()
        }
        // Until the client stops by itself, or we are told to stop.
        try? await cancelWhenGracefulShutdown { await stopped.wait() }
        if stopped.isRaised { return true }
        running.cancel()
        // This task is cancelled, and a cancelled task cannot sleep: wait in a task of its own.
        let inTime = await Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await stopped.wait() }
                group.addTask { try? await Task.sleep(for: grace) }
                await group.next()
                group.cancelAll()
            }
            return stopped.isRaised
        }.value
        if !inTime {
            logger.warning("PostgreSQL: postgres-nio's PostgresClient did not stop within \(grace) of being asked; leaving it (all its connections are closed)")
        }
        return inTime
    }
}
