import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Not a test of SessionKit: the evidence behind the `leak:` entries for HummingbirdTesting in
/// `scripts/sanitizers/address-suppressions.txt`. A plain Hummingbird router, no SessionKit code,
/// sent `SESSIONKIT_LEAK_PROOF_REQUESTS` requests through HummingbirdTesting's `.router` client;
/// skipped unless that is set. Under AddressSanitizer, LeakSanitizer reports one
/// `NIOAsyncTestingChannel` (its pipeline and event loop) per request: `RouterTestFramework` makes
/// one for each request's context and never closes it, and a channel and its `ChannelPipeline`
/// hold each other until the channel is closed.
///
///     swift build --build-tests --sanitize=address --scratch-path .build-asan
///     SESSIONKIT_LEAK_PROOF_REQUESTS=100 ASAN_OPTIONS=detect_leaks=1 swift test --skip-build \
///         --sanitize=address --scratch-path .build-asan --filter HummingbirdTestingLeakProof
@Suite(
    "HummingbirdTesting leak proof",
    .enabled(if: LeakProofRequests.count > 0, "set SESSIONKIT_LEAK_PROOF_REQUESTS to run it (under --sanitize=address)")
)
struct HummingbirdTestingLeakProof {

    @Test func routerRequestsWithoutSessionKit() async throws {
        let router = Router()
        router.get("/") { _, _ in "ok" }
        try await Application(router: router).test(.router) { client in
            for _ in 0..<LeakProofRequests.count {
                let response = try await client.execute(uri: "/", method: .get)
                #expect(response.status == .ok)
            }
        }
    }
}

/// `SESSIONKIT_LEAK_PROOF_REQUESTS`, 0 when unset.
enum LeakProofRequests {
    static let count = Int(ProcessInfo.processInfo.environment["SESSIONKIT_LEAK_PROOF_REQUESTS"] ?? "") ?? 0
}
