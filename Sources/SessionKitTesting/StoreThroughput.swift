/// A quick throughput measurement for a store: `operations` calls spread over `tasks` concurrent
/// tasks, in operations per second. For the opt-in store benchmarks (never a test assertion).
///
/// ```swift
/// let loadsPerSecond = try await StoreThroughput.measure(operations: 100_000, tasks: 8) { index in
///     _ = try await store.load(keys[index % keys.count])
/// }
/// ```
public enum StoreThroughput {
    public static func measure(operations: Int, tasks: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var index = task
                    while index < operations {
                        try await body(index)
                        index += tasks
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(operations) / seconds(ContinuousClock.now - start)
    }

    /// A duration in seconds.
    public static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
