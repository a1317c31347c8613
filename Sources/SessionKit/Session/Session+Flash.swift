/// A flash message: shown once, on the next page, as Flask's `flash()` does.
///
/// ```swift
/// session.flash("Logged in", category: "success")
/// for message in session.consumeFlashes() { print(message.category, message.text) }
/// ```
public struct FlashMessage: Sendable, Hashable {
    public var category: String
    public var text: String

    public init(category: String = "message", text: String) {
        self.category = category
        self.text = text
    }
}

extension Session {
    static let flashesKey = "_flashes"

    /// Flask's `flash(message, category)`: appends a message, stored as Flask stores it
    /// (`_flashes`, a list of `(category, message)` tuples), so Flask and Swift read each other's.
    /// An atomic append (``SessionOperation/Kind/append(_:)``): messages flashed by concurrent
    /// requests of one server-side session are all kept.
    public func flash(_ message: String, category: String = "message") {
        operate(Self.flashesKey, .append(SessionValue(flask: .tuple([.string(category), .string(message)]))))
    }

    /// Flask's `get_flashed_messages(with_categories=True)`: returns the queued messages, oldest
    /// first, and removes them from the session.
    public func consumeFlashes() -> [FlashMessage] {
        guard contains(Self.flashesKey) else { return [] }
        let value = flaskValue(Self.flashesKey)
        remove(Self.flashesKey)
        guard case .list(let items)? = value else { return [] }
        return items.compactMap { item in
            switch item {
            case .tuple(let pair), .list(let pair):
                guard pair.count == 2, case .string(let category) = pair[0], case .string(let text) = pair[1] else { return nil }
                return FlashMessage(category: category, text: text)
            default:
                return nil
            }
        }
    }
}
