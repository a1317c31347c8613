import SessionKit
import SessionKitRedis
import Testing

/// The Redis password never prints: not from the configuration (`print`, `dump`,
/// `String(describing:)`, `String(reflecting:)`, interpolation), nor from a store made with it. No
/// server needed.
@Suite("Redis configuration redaction")
struct RedisConfigurationRedactionTests {
    static let password = "r3dis-Pa55word-Qx7"

    static func renderings<T>(_ value: T) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        var printed = ""
        print(value, to: &printed)
        var debugPrinted = ""
        debugPrint(value, to: &debugPrinted)
        let children = Mirror(reflecting: value).children.map { "\($0.label ?? "_"): \($0.value)" }.joined(separator: "\n")
        return [dumped, printed, debugPrinted, String(describing: value), String(reflecting: value), "\(value)", "\([value])", children]
    }

    static func check<T>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) {
        for (index, text) in renderings(value).enumerated() {
            #expect(!text.contains("Pa55word") && !text.contains("Pa55%77ord"), "\(T.self) (rendering \(index)) prints the password: \(text)", sourceLocation: sourceLocation)
        }
    }

    @Test func configurationFromTheInitializer() {
        let configuration = RedisSessionStoreConfiguration(host: "redis.internal", password: Self.password, username: "app")
        Self.check(configuration)
        #expect(String(describing: configuration).contains("********"))
        #expect(String(describing: configuration).contains("redis.internal"))
    }

    @Test func configurationFromAURL() throws {
        Self.check(try RedisSessionStoreConfiguration(url: "redis://app:r3dis-Pa55%77ord-Qx7@127.0.0.1:6379/2"))
        Self.check(try RedisSessionStoreConfiguration(url: "rediss://:r3dis-Pa55word-Qx7@redis.internal:6380/0?verify=none"))
        Self.check(try RedisSessionStoreConfiguration(url: "redis://r3dis-Pa55word-Qx7@127.0.0.1"))
        let cluster = try RedisSessionStoreConfiguration(url: "redis://app:r3dis-Pa55word-Qx7@10.0.0.1:7000,10.0.0.2:7000/0?cluster=1")
        Self.check(cluster)
        #expect(String(describing: cluster).hasPrefix("redis://app:********@10.0.0.1:7000,10.0.0.2:7000/0?cluster=1"))
    }

    @Test func storeMadeFromIt() {
        // Nothing connects until first use.
        let store = RedisSessionStore(configuration: RedisSessionStoreConfiguration(password: Self.password))
        defer { store.close() }
        Self.check(store)
    }
}
