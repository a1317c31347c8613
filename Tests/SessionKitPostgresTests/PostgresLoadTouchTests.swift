import PostgresNIO
@testable import SessionKit
import SessionKitPostgres
import SessionKitTesting
import Testing

/// The touching load's SQL side (`load(_:touchingIfDue:)`: one `SELECT` that calls
/// `sessionkit_touch_if_due` for a due row): permanence decided in PostgreSQL as Swift decides it,
/// and a read that is not due leaves the row untouched (the same row version).
@Suite("PostgresSessionStore touching load", .enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason))
struct PostgresLoadTouchTests {
    static func json(_ text: String) -> SessionValue { SessionValue(json: Array(text.utf8)) }

    @Test func permanenceIsDecidedAsSwiftDecidesIt() async throws {
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            try await database.makeStore(schema: schema).migrate()
            let cases: [[String: SessionValue]] = [
                [:],
                ["_permanent": Self.json("true")],
                ["_permanent": SessionValue(flask: .bool(true)), "a": Self.json("1"), "b": Self.json("[1,2]")],
                ["_permanent": Self.json(" \ttrue\n ")],
                ["_permanent": Self.json("false")],
                ["_permanent": Self.json("1")],
                ["_permanent": Self.json("\"true\"")],
                ["_permanent": Self.json("truex")],
                ["_permanent": Self.json("")],
                ["x\n_permanent": Self.json("true")],
                ["x\n_permanent": Self.json("true"), "_permanent": Self.json("false")],
                ["_permanent_": Self.json("true"), "_permanen": Self.json("true")],
                [String(repeating: "k", count: 300): Self.json("true"), "_permanent": Self.json("true")],
            ]
            for values in cases {
                for trailer in [[], ["Mozilla/5.0", nil]] as [[String?]] {
                    let blob = SessionRecordCoding.encode(values, trailer: trailer)
                    let rows = try await database.client.query(
                        "SELECT \(unescaped: "\"" + schema + "\"").sessionkit_is_permanent(\(ByteBuffer(bytes: blob)))"
                    ).collect()
                    let postgres = try #require(rows.first).decode(Bool.self)
                    #expect(postgres == SessionLoadTouch.isPermanent(values), "\(values.keys.sorted())")
                }
            }
        }
    }

    @Test func aReadThatIsNotDueLeavesTheRowAsItWas() async throws {
        try await PostgresTestDatabase.with { database in
            let schema = database.makeSchema()
            let clock = ContractClock()
            let store = database.makeStore(schema: schema, clock: clock.function)
            let key = SessionID().storageKey
            let now = clock.now
            try await store.create(key, StoredSession(values: ["a": Self.json("1")], createdAt: now, expiresAt: now + 7200, absoluteExpiresAt: now + 86_400))
            func version() async throws -> String {
                let rows = try await database.client.query("""
                    SELECT xmin::text FROM \(unescaped: "\"" + schema + "\"").sessionkit_sessions WHERE key_hash = \(ByteBuffer(bytes: key.bytes))
                    """).collect()
                return try #require(rows.first).decode(String.self)
            }
            let created = try await version()
            clock.advance(by: 719)
            let touch = SessionLoadTouch(now: clock.now, idleWindow: 7200, permanentWindow: 31 * 86_400, touchFraction: 0.1)
            #expect(try await store.load(key, touchingIfDue: touch)?.touched == false)
            #expect(try await version() == created, "a read that is not due must not write the row")
            clock.advance(by: 1)
            let due = SessionLoadTouch(now: clock.now, idleWindow: 7200, permanentWindow: 31 * 86_400, touchFraction: 0.1)
            let loaded = try #require(try await store.load(key, touchingIfDue: due))
            #expect(loaded.touched && loaded.session.expiresAt == clock.now + 7200 && loaded.session.lastSeenAt == clock.now)
            #expect(try await version() != created)
            let stored = try #require(try await store.load(key))
            #expect(stored == loaded.session)
        }
    }
}
