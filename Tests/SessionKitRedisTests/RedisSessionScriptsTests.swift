import Testing
@testable import SessionKitRedis

/// The scripts' two forms: on a Redis Cluster, `reach` reads a session's keys before any write (a
/// migrating slot then fails the script before it changed anything); on a single server it does
/// nothing, and `apply` without operations leaves their Lua out.
@Suite("RedisSessionStore scripts")
struct RedisSessionScriptsTests {
    @Test func everyScriptHasTheClusterReachAndASingleServerFormWithoutIt() {
        for script in RedisSessionStore.Script.allCases {
            let cluster = script.source(cluster: true)
            let single = script.source(cluster: false)
            #expect(cluster.contains(RedisSessionScripts.clusterReach), "\(script)")
            #expect(cluster.contains("redis.call('EXISTS'"), "\(script)")
            #expect(!single.contains(RedisSessionScripts.clusterReach), "\(script)")
            #expect(single.contains("local function reach(h) end"), "\(script)")
            // Nothing else differs.
            #expect(single.replacing(RedisSessionScripts.singleServerReach, with: RedisSessionScripts.clusterReach) == cluster, "\(script)")
        }
    }

    @Test func onlyApplyOperationsDefinesTheOperations() {
        #expect(RedisSessionStore.Script.applyOperations.clusterSource.contains("local function operate("))
        #expect(!RedisSessionStore.Script.apply.clusterSource.contains("local function operate("))
        #expect(RedisSessionStore.Script.apply.clusterSource.hasSuffix(RedisSessionScripts.applyBody))
        #expect(RedisSessionStore.Script.applyOperations.clusterSource.hasSuffix(RedisSessionScripts.applyBody))
    }
}
