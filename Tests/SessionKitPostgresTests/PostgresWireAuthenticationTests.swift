import Foundation
import NIOCore
@testable import SessionKitPostgres
import SessionKitTesting
import Testing

/// ``PostgresWireConnection``'s authentication against the real server, one role per method:
/// `scripts/postgres-server` puts `scram-sha-256`, `md5` and `password` (cleartext) lines for them
/// first in pg_hba.conf. Each test (re)creates its role with a fresh random password; the suite is
/// serialized so no two tests set the same role's password at once. The right password connects
/// and runs a statement as the role; a wrong one fails as `.authenticationFailed` without either
/// password in the error; none fails saying a password was asked for.
@Suite(
    "PostgresWireConnection authentication against the test server", .serialized,
    .enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason)
)
struct PostgresWireAuthenticationTests {
    enum Method: String, CaseIterable, CustomTestStringConvertible {
        case scram = "sessionkit_scram"
        case md5 = "sessionkit_md5"
        case password = "sessionkit_password"

        var role: String { rawValue }
        var testDescription: String { role }
        /// The verifier the role's password is stored as: MD5 for the md5 line (with a SCRAM
        /// verifier, the server would ask for SCRAM instead).
        var passwordEncryption: String { self == .md5 ? "md5" : "scram-sha-256" }
    }

    /// Creates `method`'s role unless it exists (safe against another run doing the same) and gives
    /// it a fresh random password (hexadecimal, so it can stand in the SQL), which it returns.
    static func preparedRole(_ method: Method) async throws -> String {
        let password = "pw-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let connection = try await WireTest.connect()
        defer { connection.close() }
        _ = try await connection.run(WireTest.sql("""
            DO $$
            BEGIN
                BEGIN
                    CREATE ROLE \(method.role) LOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL;
                END;
                PERFORM set_config('password_encryption', '\(method.passwordEncryption)', true);
                ALTER ROLE \(method.role) LOGIN PASSWORD '\(password)';
            END
            $$
            """), .init()).get()
        return password
    }

    static func connectError(_ options: PostgresWireConnection.Options) async -> PostgresWireError? {
        do {
            let connection = try await PostgresWireConnection.connect(to: options).get()
            connection.close()
            Issue.record("connected as \(options.username)")
            return nil
        } catch let error as PostgresWireError {
            return error
        } catch {
            Issue.record("not a PostgresWireError: \(error)")
            return nil
        }
    }

    @Test(arguments: Method.allCases)
    func theRightPasswordConnectsAndRunsAStatement(_ method: Method) async throws {
        let password = try await Self.preparedRole(method)
        let connection = try await WireTest.connect(user: method.role, password: password)
        defer { connection.close() }
        let result = try await connection.run(WireTest.sql("SELECT current_user::text"), .init()).get()
        #expect(try result.text() == method.role)
        // A second statement on the same connection: the start-up left it in a clean state.
        #expect(try await connection.run(WireTest.sql("SELECT 40::int8 + 2"), .init()).get().int64() == 42)
    }

    @Test(arguments: Method.allCases)
    func aWrongPasswordFailsWithoutShowingEitherPassword(_ method: Method) async throws {
        let password = try await Self.preparedRole(method)
        let wrong = "wrong-" + UUID().uuidString
        let start = ContinuousClock.now
        let error = try #require(await Self.connectError(try WireTest.options(user: method.role, password: wrong)))
        #expect(ContinuousClock.now - start < TestTimeScale.limit(.seconds(30)))
        #expect(error.kind == .authenticationFailed, "\(error.kind): \(error.message)")
        #expect(error.sqlState == "28P01", "invalid_password")
        #expect(error.message.contains(method.role) && error.message.contains("password authentication failed"), "unclear: \(error.message)")
        for shown in [error.message, "\(error)", String(reflecting: error)] {
            #expect(!shown.contains(wrong) && !shown.contains(password), "shows a password: \(shown)")
        }
    }

    @Test(arguments: Method.allCases)
    func noPasswordFailsClearly(_ method: Method) async throws {
        _ = try await Self.preparedRole(method)
        let error = try #require(await Self.connectError(try WireTest.options(user: method.role, password: nil)))
        #expect(error.kind == .authenticationFailed)
        #expect(error.message.contains("asks for a password"), "unclear: \(error.message)")
        #expect(error.message.contains("'\(method.role)'") && error.message.contains("none was given"), "unclear: \(error.message)")
        // Which method the server asked for: SCRAM only for the SCRAM role (the MD5 role's MD5
        // verifier keeps the server from upgrading its md5 line to SCRAM).
        #expect(error.message.contains("SCRAM-SHA-256") == (method == .scram), "\(method.role): \(error.message)")
    }
}
