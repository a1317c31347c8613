/// An atomic change to one session value that the store applies in place, so that concurrent
/// requests changing the **same key** all win (a key-level delta keeps concurrent changes to
/// different keys; a cart or a counter is one key that many requests change at once).
///
/// A handler does not build these: it calls ``Session/increment(_:by:)``,
/// ``Session/append(_:to:)``, ``Session/insert(_:intoSet:)``, ``Session/removeAll(_:from:)``,
/// ``Session/setField(_:to:in:)``, ``Session/removeField(_:from:)`` or
/// ``Session/incrementField(_:by:in:)``. The session applies the operation to its own copy at once
/// (so the handler reads its effect), and the engine hands it to the store, which applies it to the
/// value it holds at commit time: in the memory store under the shard's lock, in SQLite and
/// PostgreSQL inside the `UPDATE`, in Redis inside the script.
///
/// Rules every store follows (the store contract checks them):
/// - A missing value, or one of another type, counts as the empty value of the operation's type:
///   `0` for ``Kind/increment(by:)``, `[]` for the list operations, `{}` for the dictionary ones.
/// - Numbers are integers; a sum saturates at `Int64`'s bounds (Redis keeps them exactly up to 2^53).
/// - List elements compare as JSON values.
/// - ``Kind/incrementField(_:by:)`` removes the field when its count reaches zero or below (a cart's
///   quantities, Python's `Counter` after `+=`).
///
/// ```swift
/// session.incrementField("apple", by: 1, in: "cart")   // two concurrent adds: {"apple": 2}
/// session.increment("visits")
/// try session.insert("dark-mode", intoSet: "features")
/// ```
public struct SessionOperation: Sendable, Equatable {
    /// What the operation does to the value.
    public enum Kind: Sendable, Equatable {
        /// Adds `by` to an integer.
        case increment(by: Int)
        /// Appends an element to a list.
        case append(SessionValue)
        /// Appends an element to a list unless an equal element is in it (a set kept as a list).
        case insert(SessionValue)
        /// Removes every element equal to this one from a list.
        case removeAll(SessionValue)
        /// Sets a field of a dictionary.
        case setField(String, SessionValue)
        /// Removes a field of a dictionary.
        case removeField(String)
        /// Adds `by` to an integer field of a dictionary; removes the field at zero or below.
        case incrementField(String, by: Int)
    }

    /// The session key whose value changes.
    public var key: String
    /// The change.
    public var kind: Kind

    public init(key: String, kind: Kind) {
        self.key = key
        self.kind = kind
    }

    /// The value after the operation, from the value before it (`nil`: missing).
    public func applied(to value: SessionValue?) -> SessionValue {
        let old = value.flatMap { try? $0.flaskValue() }
        return SessionValue(flask: kind.applied(to: old))
    }
}

extension SessionOperation.Kind {
    func applied(to old: FlaskValue?) -> FlaskValue {
        switch self {
        case .increment(let amount):
            return .int(Self.integer(old).saturatingAdd(amount))
        case .append(let element):
            return .list(Self.list(old) + [Self.flask(element)])
        case .insert(let element):
            let element = Self.flask(element)
            let list = Self.list(old)
            return .list(list.contains(element) ? list : list + [element])
        case .removeAll(let element):
            let element = Self.flask(element)
            return .list(Self.list(old).filter { $0 != element })
        case .setField(let field, let value):
            var entries = Self.dict(old).filter { $0.key != field }
            entries.append(FlaskDictEntry(field, Self.flask(value)))
            return .dict(entries)
        case .removeField(let field):
            return .dict(Self.dict(old).filter { $0.key != field })
        case .incrementField(let field, let amount):
            var entries = Self.dict(old)
            let index = entries.firstIndex { $0.key == field }
            let current = index.map { Self.integer(entries[$0].value) } ?? 0
            let new = current.saturatingAdd(amount)
            if let index { entries.remove(at: index) }
            if new > 0 { entries.append(FlaskDictEntry(field, .int(new))) }
            return .dict(entries)
        }
    }

    private static func flask(_ value: SessionValue) -> FlaskValue {
        (try? value.flaskValue()) ?? .null
    }

    private static func integer(_ value: FlaskValue?) -> Int {
        switch value {
        case .int(let int): return int
        case .double(let double) where double == double.rounded() && abs(double) < 9.0e15: return Int(double)
        default: return 0
        }
    }

    private static func list(_ value: FlaskValue?) -> [FlaskValue] {
        switch value {
        case .list(let elements), .tuple(let elements): return elements
        default: return []
        }
    }

    private static func dict(_ value: FlaskValue?) -> [FlaskDictEntry] {
        if case .dict(let entries) = value { return entries }
        return []
    }
}

extension Int {
    fileprivate func saturatingAdd(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }
}
