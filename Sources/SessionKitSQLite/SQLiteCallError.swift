import VaporCSQLite

/// A SQLite C call that failed: its extended result code and the connection's message.
///
/// ```swift
/// do { try connection.execute("INSERT INTO t VALUES (1)") }
/// catch let error as SQLiteCallError where error.isConstraintViolation { … }
/// ```
struct SQLiteCallError: Error, CustomStringConvertible, Sendable {
    /// The extended result code (`SQLITE_CONSTRAINT_PRIMARYKEY`, …).
    let code: Int32
    let message: String

    /// The error of the last call on `connection` that returned `code`.
    init(_ code: Int32, connection: OpaquePointer?) {
        let extended = connection.map { sqlite_nio_sqlite3_extended_errcode($0) } ?? code
        // The extended code belongs to the last call only when it refines `code`.
        self.code = extended & 0xFF == code & 0xFF ? extended : code
        let text = connection.flatMap { sqlite_nio_sqlite3_errmsg($0) } ?? sqlite_nio_sqlite3_errstr(code)
        self.message = text.map { String(cString: $0) } ?? "SQLite error \(code)"
    }

    init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// A `UNIQUE` or `PRIMARY KEY` constraint failed.
    var isConstraintViolation: Bool { code & 0xFF == SQLITE_CONSTRAINT }

    var description: String { "\(message) (SQLite code \(code))" }
}
