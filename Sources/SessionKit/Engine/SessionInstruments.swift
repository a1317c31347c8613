import CoreMetrics
import Synchronization
import Tracing

/// The engine's metrics, made once when the engine is (see ``SessionObservability`` for the
/// names), and the spans around store operations.
final class SessionInstruments: Sendable {
    /// A ``SessionStore`` operation, as the `operation` dimension and span names spell it.
    enum StoreOperation: String, Sendable, CaseIterable {
        case load, create, apply, touch, delete, rename, revoke

        /// Where the operation's timer is in ``SessionInstruments/timers``.
        var index: Int {
            switch self {
            case .load: 0
            case .create: 1
            case .apply: 2
            case .touch: 3
            case .delete: 4
            case .rename: 5
            case .revoke: 6
            }
        }

        /// The span's name, `sessionkit.store.<operation>` (a constant: no string is built a request).
        var spanName: String {
            switch self {
            case .load: "sessionkit.store.load"
            case .create: "sessionkit.store.create"
            case .apply: "sessionkit.store.apply"
            case .touch: "sessionkit.store.touch"
            case .delete: "sessionkit.store.delete"
            case .rename: "sessionkit.store.rename"
            case .revoke: "sessionkit.store.revoke"
            }
        }
    }

    let factory: any MetricsFactory
    let tracer: (any Tracer)?
    /// `cookie`, or the store's kind.
    let storage: String
    /// The store's kind; `nil` for cookie sessions.
    let storeKind: String?

    let created: Counter
    let regenerated: Counter
    let invalidated: Counter
    let expired: Counter
    let revoked: Counter
    let keyRotationReissues: Counter
    private let rejected: [String: Counter]
    /// Each operation's timer, at its ``StoreOperation/index`` (none for cookie sessions).
    private let timers: [Timer?]
    /// The process-wide tracer, looked up at the first store operation when none was given
    /// (`InstrumentationSystem.tracer` searches the bootstrapped instruments with dynamic casts,
    /// about 2,000 instructions, on every call), and whether it is the no-op one, whose spans are
    /// then skipped.
    private let systemTracer = Mutex<(tracer: any Tracer, isNoOp: Bool)?>(nil)

    /// Reasons a cookie is passed over, beyond the codecs' ``SessionRejection``s: a session ID cookie
    /// of the wrong shape or signature, and one the store does not know.
    static let rejectionReasons = ["malformed", "unknown_version", "bad_signature", "bad_timestamp", "expired", "bad_payload", "too_large", "not_found"]

    init(observability: SessionObservability, store: (any SessionStore)?) {
        let factory = observability.metricsFactory ?? MetricsSystem.factory
        self.factory = factory
        self.tracer = observability.tracer
        let kind = store.map { observability.storeKind ?? SessionObservability.storeKind(of: $0) }
        self.storeKind = kind
        let storage = kind ?? "cookie"
        self.storage = storage
        let dimensions = [("storage", storage)]
        created = Counter(label: "sessionkit_sessions_created", dimensions: dimensions, factory: factory)
        regenerated = Counter(label: "sessionkit_sessions_regenerated", dimensions: dimensions, factory: factory)
        invalidated = Counter(label: "sessionkit_sessions_invalidated", dimensions: dimensions, factory: factory)
        expired = Counter(label: "sessionkit_sessions_expired", dimensions: dimensions, factory: factory)
        revoked = Counter(label: "sessionkit_sessions_revoked", dimensions: dimensions, factory: factory)
        keyRotationReissues = Counter(label: "sessionkit_key_rotation_reissues", dimensions: dimensions, factory: factory)
        var rejected: [String: Counter] = [:]
        for reason in Self.rejectionReasons {
            rejected[reason] = Counter(label: "sessionkit_cookies_rejected", dimensions: [("storage", storage), ("reason", reason)], factory: factory)
        }
        self.rejected = rejected
        var timers: [Timer?] = Array(repeating: nil, count: StoreOperation.allCases.count)
        if let kind {
            for operation in StoreOperation.allCases {
                timers[operation.index] = Timer(label: "sessionkit_store_operation_duration", dimensions: [("store", kind), ("operation", operation.rawValue)], factory: factory)
            }
        }
        self.timers = timers
    }

    /// Counts a rejected cookie; `reason` is one of ``rejectionReasons``.
    func reject(_ reason: String, count: Int = 1) {
        guard count > 0 else { return }
        rejected[reason]?.increment(by: Int64(count))
    }

    /// Runs one store operation in a span (`sessionkit.store.<operation>`, attribute
    /// `sessionkit.store`), timing it and counting its error, if any.
    func measure<T>(_ operation: StoreOperation, _ body: () async throws -> T) async throws -> T {
        let kind = storeKind ?? "unknown"
        let start = ContinuousClock.now
        let tracer: any Tracer
        if let given = self.tracer {
            tracer = given
        } else {
            let system = self.system()
            guard !system.isNoOp else {
                // No tracer bootstrapped: time the operation, count its error, and make no span.
                // A path of its own: one shared path with an optional span measured 0.8k
                // instructions more a store operation (Benchmarks/http/breakdown redis read).
                defer { record(operation, since: start) }
                do {
                    return try await body()
                } catch {
                    _ = countError(error, operation: operation, kind: kind)
                    throw error
                }
            }
            tracer = system.tracer
        }
        let span = Self.startSpan(tracer, name: operation.spanName)
        // A span nobody records (the default tracer's) takes no attributes: setting one through
        // `attributes` still builds a dictionary (hashing and an allocation) only to drop it.
        let recording = span.isRecording
        if recording {
            span.attributes["sessionkit.store"] = kind
            span.attributes["sessionkit.store.operation"] = operation.rawValue
        }
        defer {
            record(operation, since: start)
            span.end()
        }
        do {
            return try await body()
        } catch {
            // Only the error's code: a store's message may name a storage key.
            let code = countError(error, operation: operation, kind: kind)
            if recording { span.attributes["sessionkit.store.error"] = code }
            span.setStatus(SpanStatus(code: .error, message: code))
            throw error
        }
    }

    /// Records an operation's duration in its timer.
    private func record(_ operation: StoreOperation, since start: ContinuousClock.Instant) {
        guard let timer = timers[operation.index] else { return }
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// `InstrumentationSystem.tracer`, looked up once (it is bootstrapped once, before serving).
    private func system() -> (tracer: any Tracer, isNoOp: Bool) {
        systemTracer.withLock { found in
            if let found { return found }
            let tracer = InstrumentationSystem.tracer
            let system = (tracer: tracer, isNoOp: tracer is NoOpTracer)
            found = system
            return system
        }
    }

    /// Counts a store error and returns its code (`other` for an error that is no
    /// ``SessionStoreError``).
    private func countError(_ error: any Error, operation: StoreOperation, kind: String) -> String {
        let code: String
        if let error = error as? SessionStoreError {
            code = error.code.description
            if Self.isTimeout(error.message) {
                Counter(label: "sessionkit_store_timeouts", dimensions: [("store", kind), ("operation", operation.rawValue)], factory: factory).increment()
            }
        } else {
            code = "other"
        }
        Counter(label: "sessionkit_store_errors", dimensions: [("store", kind), ("operation", operation.rawValue), ("error", code)], factory: factory).increment()
        return code
    }

    /// Whether a store error's message says it timed out (the stores word their timeouts as
    /// "timed out", "timeout", or "did not answer within" / "no connection within" a duration).
    static func isTimeout(_ message: String) -> Bool {
        let message = message.lowercased()
        return message.contains("timed out") || message.contains("timeout") || message.contains(" within ")
    }

    private static func startSpan(_ tracer: some Tracer, name: String) -> any Span {
        tracer.startSpan(name, ofKind: .client)
    }
}
