/// Atomic per-key operations: changes to one key that concurrent requests make at the same time
/// all survive, in one process or across a fleet of app servers sharing a store.
///
/// Use them for a value that several requests of one session change at once: a cart's quantities,
/// a counter, a list of recently viewed items, a set of dismissed banners. Assigning a whole value
/// (`session["cart"] = cart`) is last-writer-wins for that key: two concurrent adds read the same
/// cart and one add is lost. An operation is applied by the store to the value it holds when the
/// request commits, so both adds count.
///
/// | what the handler wants | call | why |
/// |---|---|---|
/// | replace a value (a name, a theme, a login) | `session["k"] = v` | the last write should win |
/// | count something | ``increment(_:by:)`` | concurrent counts add up |
/// | a bag of counts (a cart) | ``incrementField(_:by:in:)`` | each item's count adds up; 0 removes it |
/// | a list that only grows | ``append(_:to:)`` | no append is lost |
/// | a set of flags | ``insert(_:intoSet:)``, ``removeAll(_:from:)`` | no duplicate, no lost flag |
/// | a dictionary of independent fields | ``setField(_:to:in:)``, ``removeField(_:from:)`` | fields set at once all stay |
///
/// The session applies each operation to its own copy at once, so the handler reads the result;
/// the store's result can differ when another request changed the key meanwhile (that is the
/// point). With cookie sessions there is no shared copy: operations behave as assignments.
/// The reserved keys (`_user_id`, `_permanent`) and a key assigned earlier in the same request take
/// the operation as an assignment of the result.
///
/// ```swift
/// router.post("/cart/add") { request, context in
///     context.session.incrementField("apple", by: 1, in: "cart")   // 200 concurrent adds: 200 apples
///     return Response.redirect(to: "/cart")
/// }
/// ```
extension Session {
    /// Adds `amount` to the integer at `key` (missing or not an integer: 0 first).
    public func increment(_ key: String, by amount: Int = 1) {
        operate(key, .increment(by: amount))
    }

    /// Appends `element` to the list at `key` (missing or not a list: an empty list first).
    public func append<Element: Codable & Sendable>(_ element: Element, to key: String) throws {
        operate(key, .append(try Self.encoded(element, key: key)))
    }

    /// Adds `element` to the list at `key` unless an equal element is in it already.
    public func insert<Element: Codable & Sendable>(_ element: Element, intoSet key: String) throws {
        operate(key, .insert(try Self.encoded(element, key: key)))
    }

    /// Removes every element equal to `element` from the list at `key`.
    public func removeAll<Element: Codable & Sendable>(_ element: Element, from key: String) throws {
        operate(key, .removeAll(try Self.encoded(element, key: key)))
    }

    /// Sets `field` of the dictionary at `key` (missing or not a dictionary: an empty one first).
    public func setField<Value: Codable & Sendable>(_ field: String, to value: Value, in key: String) throws {
        operate(key, .setField(field, try Self.encoded(value, key: key)))
    }

    /// Removes `field` from the dictionary at `key`.
    public func removeField(_ field: String, from key: String) {
        operate(key, .removeField(field))
    }

    /// Adds `amount` to the integer `field` of the dictionary at `key`; a field whose count reaches
    /// zero or below is removed.
    public func incrementField(_ field: String, by amount: Int = 1, in key: String) {
        operate(key, .incrementField(field, by: amount))
    }

    private static func encoded<Value: Codable & Sendable>(_ value: Value, key: String) throws -> SessionValue {
        do {
            return try SessionValue(encoding: value)
        } catch {
            throw SessionError(.encodingFailed, "session key '\(key)': the \(Value.self) value cannot be encoded")
        }
    }
}
