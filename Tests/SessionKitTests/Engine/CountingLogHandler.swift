import Logging
import Synchronization

/// A log handler for tests that counts the messages logged through it (every level) and keeps
/// their text.
///
/// ```swift
/// let log = CountingLogHandler.Box()
/// let logger = Logger(label: "test") { _ in CountingLogHandler(box: log) }
/// logger.debug("hello")
/// #expect(log.count == 1)
/// ```
struct CountingLogHandler: LogHandler {
    /// What the handlers made from one box have logged.
    final class Box: Sendable {
        private let lines = Mutex<[String]>([])

        /// The messages with their metadata, in order.
        var messages: [String] { lines.withLock { $0 } }
        /// How many messages were logged.
        var count: Int { lines.withLock { $0.count } }

        func append(_ line: String) { lines.withLock { $0.append(line) } }
    }

    let box: Box
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        box.append("\(event.level) \(event.message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}
