import InMemoryTracing
import Logging
import Testing
import Tracing
@testable import SessionKit
import SessionKitTesting

/// Store operations run in swift-distributed-tracing spans, through an `InMemoryTracer` given to
/// the engine (no process-wide bootstrap).
@Suite("Session tracing")
struct SessionTracingTests {
    static let now: Int64 = 1_700_000_000

    @Test func storeOperationsAreSpans() async throws {
        let tracer = InMemoryTracer()
        let faulty = FaultInjectingSessionStore(MemorySessionStore(clock: { Self.now }))
        let engine = SessionEngine(
            store: faulty, logger: Logger(label: "test"), clock: { Self.now },
            observability: SessionObservability(tracer: tracer)
        )
        let session = try await engine.load(from: RequestCookies())
        session["user"] = "ada"
        let cookie = try #require(try await engine.commit(session).setCookies.first)
        let loaded = try await engine.load(from: RequestCookies(header: "session=\(cookie.value)"))
        loaded["cart"] = 1
        _ = try await engine.commit(loaded)

        let spans = tracer.popFinishedSpans()
        #expect(spans.map(\.operationName) == ["sessionkit.store.create", "sessionkit.store.load", "sessionkit.store.apply"])
        for span in spans {
            #expect(span.attributes["sessionkit.store"]?.toSpanAttribute() == SpanAttribute.string("memory"))
            #expect(span.kind == .client)
            // Never the ID, its cookie value or its storage key.
            let attributes = "\(span.attributes)"
            #expect(!attributes.contains(cookie.value))
            #expect(!attributes.contains("\(try #require(loaded.storageKey))"))
        }

        // A failed operation is a span with an error status and the error's code only.
        faulty.fail([.load])
        await #expect(throws: SessionError.self) { try await engine.load(from: RequestCookies(header: "session=\(cookie.value)")) }
        let failed = try #require(tracer.popFinishedSpans().last)
        #expect(failed.operationName == "sessionkit.store.load")
        #expect(failed.status?.code == .error)
        #expect(failed.attributes["sessionkit.store.error"]?.toSpanAttribute() == SpanAttribute.string("injectedFault"))
    }

    @Test func cookieSessionsMakeNoSpans() async throws {
        let tracer = InMemoryTracer()
        let keys = try KeyRing(current: SessionSecret(text: String(repeating: "tracing-test-secret-", count: 2)))
        let engine = SessionEngine(codec: EncryptedSessionCodec(keys: keys), observability: SessionObservability(tracer: tracer))
        let session = try await engine.load(from: RequestCookies())
        session["user"] = "ada"
        _ = try await engine.commit(session)
        #expect(tracer.finishedSpans.isEmpty)
    }
}
