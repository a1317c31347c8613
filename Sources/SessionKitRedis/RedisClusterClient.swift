import NIOCore
import NIOPosix
import Synchronization

/// A client for Redis Cluster: a ``RedisClusterSlotMap`` from `CLUSTER SHARDS` (or `CLUSTER SLOTS`)
/// asked of any known node, a ``RedisConnectionPool`` per master (the same options, TLS and
/// `AUTH`, for every node; database 0, the only one a cluster has), and every command routed to
/// the master of its key's slot.
///
/// Redirections are followed, each attempt bounded by a retry budget in time and count:
/// - `MOVED slot host:port`: the slot has a new master. The map records it, a full refresh starts
///   (one at a time), and the command goes to the named node.
/// - `ASK slot host:port`: the slot is migrating and the key has left. With `followAsk`, `ASKING` and
///   the command go to the named node once, on one connection. Without it (the session scripts,
///   whose keys are not all declared), the command waits and tries again, as for `TRYAGAIN`.
/// - `TRYAGAIN`, and a script's "attempted to access a non local key": a multi-key command or script
///   met a slot whose keys are split between two nodes; it runs again after a short delay (5 ms,
///   doubling to 100 ms).
/// - `CLUSTERDOWN`: ``RedisClientError/Kind/clusterDown`` at once. A master that cannot be reached
///   refreshes the map once (it may have been replaced) before failing with the connection error.
///
/// ```swift
/// let cluster = RedisClusterClient(seeds: [RedisClusterNode(host: "127.0.0.1", port: 7000)], options: options, poolSize: 2)
/// let reply = try await cluster.send(RedisCommand("HGETALL", "{app}:s:1"), key: "{app}:s:1", followAsk: true)
/// cluster.close()
/// ```
package final class RedisClusterClient: Sendable {
    /// Counts of what the cluster answered, for tests and diagnostics.
    package struct Statistics: Sendable, Equatable {
        package var moved = 0
        package var ask = 0
        package var tryAgain = 0
        package var refreshes = 0
    }

    private struct State {
        var map: RedisClusterSlotMap?
        var pools: [RedisClusterNode: RedisConnectionPool] = [:]
        var refreshing: Task<RedisClusterSlotMap, any Error>?
        var statistics = Statistics()
        var closed = false
    }

    package let seeds: [RedisClusterNode]
    private let options: RedisConnection.Options
    private let poolSize: Int
    private let retryBudget: Duration
    private let maximumAttempts: Int
    private let group: any EventLoopGroup
    private let state = Mutex(State())

    /// A client that learns the cluster from `seeds`; `options` (host and port aside) apply to
    /// every node. A command is retried for at most `retryBudget` and `maximumAttempts` sends.
    package init(
        seeds: [RedisClusterNode], options: RedisConnection.Options, poolSize: Int,
        retryBudget: Duration = .seconds(5), maximumAttempts: Int = 64,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.seeds = seeds
        var options = options
        options.database = 0
        self.options = options
        self.poolSize = max(1, poolSize)
        self.retryBudget = retryBudget
        self.maximumAttempts = max(2, maximumAttempts)
        self.group = group
    }

    deinit {
        close()
    }

    /// What the cluster answered so far.
    package var statistics: Statistics { state.withLock { $0.statistics } }

    /// The slot map in use, `nil` before the first command.
    package var slotMap: RedisClusterSlotMap? { state.withLock { $0.map } }

    /// Replaces the slot map (tests start from a wrong one to see `MOVED` followed).
    package func install(_ map: RedisClusterSlotMap) {
        state.withLock { $0.map = map }
    }

    /// Closes every connection to every node; later commands throw ``RedisClientError/Kind/poolClosed``.
    package func close() {
        let (pools, refreshing) = state.withLock { state in
            state.closed = true
            defer { state.pools = [:] }
            return (Array(state.pools.values), state.refreshing)
        }
        refreshing?.cancel()
        for pool in pools { pool.close() }
    }

    /// Sends `command` to the master of `key`'s slot, following redirections, and returns the reply
    /// (an error reply other than a redirection is a value, as from ``RedisConnectionPool``).
    package func send(_ command: RedisCommand, key: String, followAsk: Bool) async throws -> RESPValue {
        let slot = RedisClusterSlot.of(key)
        let deadline = ContinuousClock.now + retryBudget
        var redirect: RedisClusterNode?
        var asking: RedisClusterNode?
        var refreshedAfterConnectFailure = false
        var waits = 0
        for _ in 0..<maximumAttempts {
            let node: RedisClusterNode
            if let asking {
                node = asking
            } else if let redirect {
                node = redirect
            } else {
                node = try await master(of: slot)
            }
            let reply: RESPValue
            do {
                if asking != nil {
                    reply = try await sendAsking(command, to: node)
                } else {
                    reply = try await pool(for: node).send(command)
                }
            } catch let error as RedisClientError where error.kind == .connectFailed && !refreshedAfterConnectFailure {
                // Never sent: the map may name a node that is gone. Once, ask the others.
                refreshedAfterConnectFailure = true
                redirect = nil
                asking = nil
                if (try? await refresh())?.node(forSlot: slot).map({ $0 != node }) == true { continue }
                throw error
            }
            asking = nil
            guard case .error(let message) = reply else { return reply }
            switch Redirection(message) {
            case nil:
                return reply
            case .moved(let movedSlot, let target):
                state.withLock { state in
                    state.statistics.moved += 1
                    state.map?.assign(movedSlot...movedSlot, to: target)
                }
                redirect = target
                refreshInBackground()
            case .ask(let target):
                state.withLock { $0.statistics.ask += 1 }
                if followAsk {
                    asking = target
                    continue
                }
                redirect = nil
                try await wait(&waits, until: deadline)
            case .tryAgain:
                state.withLock { $0.statistics.tryAgain += 1 }
                redirect = nil
                try await wait(&waits, until: deadline)
            case .down:
                throw RedisClientError(.clusterDown, "the Redis Cluster is down (\(message.prefix(120)))")
            }
        }
        throw RedisClientError(.clusterRedirected, "the Redis Cluster kept redirecting a command for slot \(slot) (\(maximumAttempts) attempts)")
    }

    /// Sends `command` to any node that answers (the master of slot 0's key first); for `PING`.
    package func sendToAnyNode(_ command: RedisCommand) async throws -> RESPValue {
        let node = try await master(of: 0)
        return try await pool(for: node).send(command)
    }

    /// Asks the known nodes, then the seeds, for the slot map, and installs it. Concurrent callers
    /// share one request.
    @discardableResult
    package func refresh() async throws -> RedisClusterSlotMap {
        let task: Task<RedisClusterSlotMap, any Error> = try state.withLock { state in
            guard !state.closed else { throw RedisClientError(.poolClosed, "the Redis Cluster client is closed") }
            if let running = state.refreshing { return running }
            let candidates = (state.map?.nodes ?? []) + seeds
            let task = Task { try await self.fetchMap(from: candidates) }
            state.refreshing = task
            return task
        }
        do {
            let map = try await task.value
            state.withLock { state in
                state.map = map
                state.statistics.refreshes += 1
                if state.refreshing == task { state.refreshing = nil }
            }
            return map
        } catch {
            state.withLock { state in
                if state.refreshing == task { state.refreshing = nil }
            }
            throw error
        }
    }

    // MARK: Helpers

    /// The master of `slot`, from the map (fetched first when there is none, or it has no master for the slot).
    private func master(of slot: Int) async throws -> RedisClusterNode {
        if let node = state.withLock({ $0.map?.node(forSlot: slot) }) { return node }
        guard let node = try await refresh().node(forSlot: slot) else {
            throw RedisClientError(.clusterDown, "no master of the Redis Cluster serves slot \(slot)")
        }
        return node
    }

    private func refreshInBackground() {
        Task { _ = try? await self.refresh() }
    }

    private func fetchMap(from candidates: [RedisClusterNode]) async throws -> RedisClusterSlotMap {
        var seen = Set<RedisClusterNode>()
        var failures: [String] = []
        for node in candidates where seen.insert(node).inserted {
            try Task.checkCancellation()
            do {
                let pool = try pool(for: node)
                var reply = try await pool.send(RedisCommand("CLUSTER", "SHARDS"))
                let map: RedisClusterSlotMap
                if case .error = reply {
                    // Before Redis 7.
                    reply = try await pool.send(RedisCommand("CLUSTER", "SLOTS"))
                    if case .error(let message) = reply {
                        failures.append("\(node): \(message.prefix(120))")
                        continue
                    }
                    map = try RedisClusterSlotMap(slots: reply, answeredBy: node)
                } else {
                    map = try RedisClusterSlotMap(shards: reply, tls: options.tls != nil)
                }
                if map.coveredSlots > 0 { return map }
                failures.append("\(node): no slot has a master")
            } catch let error as RedisClientError where error.kind == .poolClosed {
                throw error
            } catch let error as RedisClientError {
                failures.append(error.message)
            }
        }
        throw RedisClientError(.clusterDown, "no node of the Redis Cluster gave its slot map: \(failures.joined(separator: "; "))")
    }

    private func pool(for node: RedisClusterNode) throws -> RedisConnectionPool {
        try state.withLock { state in
            guard !state.closed else { throw RedisClientError(.poolClosed, "the Redis Cluster client is closed") }
            if let pool = state.pools[node] { return pool }
            var options = self.options
            options.host = node.host
            options.port = node.port
            let pool = RedisConnectionPool(options: options, size: poolSize, group: group)
            state.pools[node] = pool
            return pool
        }
    }

    /// `ASKING`, then `command`, pipelined on one connection (`ASKING` holds for the next command only).
    private func sendAsking(_ command: RedisCommand, to node: RedisClusterNode) async throws -> RESPValue {
        let connection = try await pool(for: node).connection()
        let asking: EventLoopFuture<RESPValue> = connection.send(RedisCommand("ASKING"))
        let reply: EventLoopFuture<RESPValue> = connection.send(command)
        _ = try await asking.get()
        return try await reply.get()
    }

    /// Sleeps before the next try (5 ms, doubling up to 100 ms); throws when the budget is spent.
    private func wait(_ waits: inout Int, until deadline: ContinuousClock.Instant) async throws {
        let delay = Duration.milliseconds(min(100, 5 << min(waits, 5)))
        waits += 1
        guard ContinuousClock.now + delay < deadline else {
            throw RedisClientError(.clusterRedirected, "a slot of the Redis Cluster stayed unavailable (migrating) past the retry budget")
        }
        try await Task.sleep(for: delay)
    }

    /// What an error reply asks the client to do.
    private enum Redirection {
        case moved(Int, RedisClusterNode)
        case ask(RedisClusterNode)
        case tryAgain
        case down

        init?(_ message: String) {
            if message.hasPrefix("MOVED ") || message.hasPrefix("ASK ") {
                let parts = message.split(separator: " ")
                guard parts.count >= 3, let slot = Int(parts[1]), (0..<RedisClusterSlot.count).contains(slot),
                    let node = RedisClusterNode(redirect: parts[2])
                else { return nil }
                self = parts[0] == "MOVED" ? .moved(slot, node) : .ask(node)
            } else if message.hasPrefix("TRYAGAIN") || message.contains("attempted to access a non local key") {
                self = .tryAgain
            } else if message.hasPrefix("CLUSTERDOWN") || message.contains("while the cluster is down") {
                self = .down
            } else {
                return nil
            }
        }
    }
}
