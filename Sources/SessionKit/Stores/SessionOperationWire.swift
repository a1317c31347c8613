/// The form in which ``SessionOperation``s travel to a store that applies them outside Swift
/// (PostgreSQL's `jsonb`, Redis's Lua) or inside a SQL function (SQLite): a JSON array of objects
/// `{"k": key, "o": code, "f": field, "n": amount, "v": value}`, where the code is `inc`, `app`,
/// `ins`, `rem`, `setf`, `remf` or `incf` and only the members the operation needs are present.
///
/// ```swift
/// let json = SessionOperationWire.encode([SessionOperation(key: "cart", kind: .incrementField("apple", by: 1))])
/// // [{"k":"cart","o":"incf","f":"apple","n":1}]
/// let back = try SessionOperationWire.decode(json)
/// ```
package enum SessionOperationWire {
    package static func encode(_ operations: [SessionOperation]) -> [UInt8] {
        FlaskJSON.plainBytes(.list(operations.map(entry)))
    }

    package static func encodedText(_ operations: [SessionOperation]) -> String {
        String(decoding: encode(operations), as: UTF8.self)
    }

    /// The operations of `bytes`; throws ``SessionStoreError/Code/corruptRecord`` for anything else.
    package static func decode(_ bytes: some Collection<UInt8>) throws -> [SessionOperation] {
        guard case .list(let entries) = try? FlaskJSON.parse(Array(bytes)) else { throw malformed }
        return try entries.map(operation)
    }

    /// Throws ``SessionStoreError/Code/invalidOperation`` when an operation changes the user ID.
    package static func check(_ operations: [SessionOperation]) throws {
        if operations.contains(where: { $0.key == StoredSession.userIDKey }) {
            throw SessionStoreError(.invalidOperation, "an operation on '\(StoredSession.userIDKey)': assign the user ID instead")
        }
    }

    /// The code, field, amount and value's JSON text of an operation, for stores that take them
    /// as separate arguments (Redis).
    package static func parts(_ kind: SessionOperation.Kind) -> (code: String, field: String, amount: Int, value: [UInt8]) {
        switch kind {
        case .increment(let amount): return ("inc", "", amount, [])
        case .append(let value): return ("app", "", 0, value.jsonBytes)
        case .insert(let value): return ("ins", "", 0, value.jsonBytes)
        case .removeAll(let value): return ("rem", "", 0, value.jsonBytes)
        case .setField(let field, let value): return ("setf", field, 0, value.jsonBytes)
        case .removeField(let field): return ("remf", field, 0, [])
        case .incrementField(let field, let amount): return ("incf", field, amount, [])
        }
    }

    private static func entry(_ operation: SessionOperation) -> FlaskValue {
        let (code, field, amount, value) = parts(operation.kind)
        var entries = [FlaskDictEntry("k", .string(operation.key)), FlaskDictEntry("o", .string(code))]
        switch operation.kind {
        case .increment: entries.append(FlaskDictEntry("n", .int(amount)))
        case .append(let v), .insert(let v), .removeAll(let v): entries.append(FlaskDictEntry("v", (try? v.flaskValue()) ?? .null))
        case .setField(_, let v):
            entries.append(FlaskDictEntry("f", .string(field)))
            entries.append(FlaskDictEntry("v", (try? v.flaskValue()) ?? .null))
        case .removeField: entries.append(FlaskDictEntry("f", .string(field)))
        case .incrementField:
            entries.append(FlaskDictEntry("f", .string(field)))
            entries.append(FlaskDictEntry("n", .int(amount)))
        }
        _ = value
        return .dict(entries)
    }

    private static func operation(_ entry: FlaskValue) throws -> SessionOperation {
        guard case .dict(let members) = entry else { throw malformed }
        func member(_ name: String) -> FlaskValue? { members.first { $0.key == name }?.value }
        guard case .string(let key)? = member("k"), case .string(let code)? = member("o") else { throw malformed }
        func field() throws -> String {
            guard case .string(let field)? = member("f") else { throw malformed }
            return field
        }
        func amount() throws -> Int {
            guard case .int(let amount)? = member("n") else { throw malformed }
            return amount
        }
        func value() throws -> SessionValue {
            guard let value = member("v") else { throw malformed }
            return SessionValue(flask: value)
        }
        let kind: SessionOperation.Kind
        switch code {
        case "inc": kind = .increment(by: try amount())
        case "app": kind = .append(try value())
        case "ins": kind = .insert(try value())
        case "rem": kind = .removeAll(try value())
        case "setf": kind = .setField(try field(), try value())
        case "remf": kind = .removeField(try field())
        case "incf": kind = .incrementField(try field(), by: try amount())
        default: throw malformed
        }
        return SessionOperation(key: key, kind: kind)
    }

    private static var malformed: SessionStoreError {
        SessionStoreError(.corruptRecord, "malformed session operations")
    }
}
