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
package struct CountingLogHandler: LogHandler {
    /// What the handlers made from one box have logged.
    package final class Box: Sendable {
        private let lines = Mutex<[String]>([])

        /// The messages with their metadata, in order.
        package var messages: [String] { lines.withLock { $0 } }
        /// How many messages were logged.
        package var count: Int { lines.withLock { $0.count } }

        package init() {}

        package func append(_ line: String) { lines.withLock { $0.append(line) } }
    }

    package let box: Box
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .trace

    package init(box: Box) {
        self.box = box
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        box.append("\(event.level) \(event.message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}
