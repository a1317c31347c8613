/// Which master serves each of Redis Cluster's 16384 slots, as `CLUSTER SHARDS` (Redis 7) or
/// `CLUSTER SLOTS` (older servers) tell it. Replicas are not used: every session command goes to
/// the slot's master.
///
/// ```swift
/// let map = try RedisClusterSlotMap(shards: try await connection.send(RedisCommand("CLUSTER", "SHARDS")), tls: false)
/// let node = map.node(forSlot: RedisClusterSlot.of("{sessionkit}:expiry"))
/// ```
package struct RedisClusterSlotMap: Sendable, Equatable {
    /// The masters, in the order they were first named.
    package private(set) var nodes: [RedisClusterNode] = []
    /// For each slot, an index into ``nodes``, or -1 when no master serves it.
    private var owners = [Int16](repeating: -1, count: RedisClusterSlot.count)

    package init() {}

    /// The master serving `slot`, if any.
    package func node(forSlot slot: Int) -> RedisClusterNode? {
        let index = owners[slot]
        return index < 0 ? nil : nodes[Int(index)]
    }

    /// How many slots have a master.
    package var coveredSlots: Int { owners.count { $0 >= 0 } }

    /// Records that `node` serves `slots` (what a `MOVED` reply says for one slot).
    package mutating func assign(_ slots: ClosedRange<Int>, to node: RedisClusterNode) {
        let index: Int
        if let known = nodes.firstIndex(of: node) {
            index = known
        } else {
            index = nodes.count
            nodes.append(node)
        }
        for slot in slots where (0..<RedisClusterSlot.count).contains(slot) { owners[slot] = Int16(index) }
    }

    /// The map from a `CLUSTER SHARDS` reply: per shard, its slot ranges and its nodes (each a flat
    /// list of field names and values); the online master's `endpoint` (or `ip`) and `port` (its
    /// `tls-port` when `tls`) serve the ranges. Throws ``RedisClientError/Kind/protocolError`` for
    /// a reply of another shape.
    package init(shards reply: RESPValue, tls: Bool) throws {
        guard let shards = reply.array else { throw Self.malformed("CLUSTER SHARDS") }
        for shard in shards {
            let fields = try Self.fields(shard, "CLUSTER SHARDS")
            guard let slots = fields["slots"]?.array, slots.count % 2 == 0, let members = fields["nodes"]?.array else {
                throw Self.malformed("CLUSTER SHARDS")
            }
            var master: RedisClusterNode?
            for member in members {
                let node = try Self.fields(member, "CLUSTER SHARDS")
                guard node["role"]?.string == "master" else { continue }
                if let health = node["health"]?.string, health != "online", master != nil { continue }
                var host = node["endpoint"]?.string ?? ""
                if host.isEmpty || host == "?" { host = node["ip"]?.string ?? "" }
                let port = tls ? (node["tls-port"]?.int64 ?? node["port"]?.int64) : node["port"]?.int64
                guard !host.isEmpty, let port, (1...65535).contains(port) else { continue }
                master = RedisClusterNode(host: host, port: Int(port))
            }
            guard let master else { continue }
            var index = 0
            while index < slots.count {
                guard let start = slots[index].int64, let end = slots[index + 1].int64, start <= end else {
                    throw Self.malformed("CLUSTER SHARDS")
                }
                assign(Int(start)...Int(end), to: master)
                index += 2
            }
        }
    }

    /// The map from a `CLUSTER SLOTS` reply: per range, its first and last slot, then the master
    /// (`[host, port, id, ...]`) and its replicas. An empty host means the node that answered, `answeredBy`.
    package init(slots reply: RESPValue, answeredBy: RedisClusterNode) throws {
        guard let ranges = reply.array else { throw Self.malformed("CLUSTER SLOTS") }
        for range in ranges {
            guard let parts = range.array, parts.count >= 3, let start = parts[0].int64, let end = parts[1].int64,
                start <= end, let master = parts[2].array, master.count >= 2, let port = master[1].int64,
                (1...65535).contains(port)
            else { throw Self.malformed("CLUSTER SLOTS") }
            let host = master[0].string ?? ""
            assign(Int(start)...Int(end), to: RedisClusterNode(host: host.isEmpty ? answeredBy.host : host, port: Int(port)))
        }
    }

    /// A flat `[name, value, name, value, ...]` array as a dictionary.
    private static func fields(_ value: RESPValue, _ command: String) throws -> [String: RESPValue] {
        guard let items = value.array, items.count % 2 == 0 else { throw malformed(command) }
        var fields: [String: RESPValue] = [:]
        var index = 0
        while index < items.count {
            guard let name = items[index].string else { throw malformed(command) }
            fields[name] = items[index + 1]
            index += 2
        }
        return fields
    }

    private static func malformed(_ command: String) -> RedisClientError {
        RedisClientError(.protocolError, "the Redis Cluster answered \(command) with a reply of an unexpected shape")
    }
}
