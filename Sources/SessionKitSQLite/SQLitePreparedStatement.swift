import VaporCSQLite

/// A prepared statement of a ``SQLiteRawConnection``, borrowed for one execution.
///
/// Parameters are numbered from 1 and columns from 0, as in SQLite's C API. The connection
/// resets the statement and clears its parameters when the borrow ends, so a statement never
/// holds a read transaction open between uses.
///
/// ```swift
/// let count = try connection.withStatement("SELECT count(*) FROM t WHERE n > ?1") { statement in
///     try statement.bind(1, Int64(5))
///     return try statement.step() ? statement.int64(0) : 0
/// }
/// ```
struct SQLitePreparedStatement {
    let handle: OpaquePointer
    let connection: OpaquePointer

    /// `SQLITE_TRANSIENT`: SQLite copies a bound value before the call returns.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func bind(_ index: Int32, _ value: Int64) throws {
        try check(sqlite_nio_sqlite3_bind_int64(handle, index, value))
    }

    func bind(_ index: Int32, _ value: String?) throws {
        guard var text = value else { return try bindNull(index) }
        try text.withUTF8 { utf8 in
            guard let base = utf8.baseAddress, !utf8.isEmpty else {
                // An empty text, not NULL (SQLite binds NULL for a null pointer).
                return try check(sqlite_nio_sqlite3_bind_text64(handle, index, "", 0, Self.transient, UInt8(SQLITE_UTF8)))
            }
            try base.withMemoryRebound(to: CChar.self, capacity: utf8.count) { chars in
                try check(sqlite_nio_sqlite3_bind_text64(handle, index, chars, UInt64(utf8.count), Self.transient, UInt8(SQLITE_UTF8)))
            }
        }
    }

    /// Binds bytes as a BLOB (an empty one, not NULL, when `bytes` is empty).
    func bind(_ index: Int32, blob bytes: UnsafeRawBufferPointer) throws {
        if bytes.isEmpty {
            return try check(sqlite_nio_sqlite3_bind_zeroblob(handle, index, 0))
        }
        try check(sqlite_nio_sqlite3_bind_blob64(handle, index, bytes.baseAddress, UInt64(bytes.count), Self.transient))
    }

    func bind(_ index: Int32, blob bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try bind(index, blob: $0) }
    }

    func bindNull(_ index: Int32) throws {
        try check(sqlite_nio_sqlite3_bind_null(handle, index))
    }

    /// Runs the statement to its next row: `true` with a row to read, `false` when it is done.
    func step() throws -> Bool {
        switch sqlite_nio_sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw SQLiteCallError(code, connection: connection)
        }
    }

    /// Runs the statement to its end, ignoring any rows.
    func run() throws {
        while try step() {}
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite_nio_sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    /// The column as an integer, or `nil` when it does not hold one.
    func int64(_ column: Int32) -> Int64? {
        guard sqlite_nio_sqlite3_column_type(handle, column) == SQLITE_INTEGER else { return nil }
        return sqlite_nio_sqlite3_column_int64(handle, column)
    }

    /// The column as text, or `nil` when it is NULL.
    func text(_ column: Int32) -> String? {
        guard sqlite_nio_sqlite3_column_type(handle, column) != SQLITE_NULL,
              let bytes = sqlite_nio_sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite_nio_sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// Reads the column's bytes in place (valid only inside `body`), or returns `nil` when it is not a BLOB.
    func withBlob<Result>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result? {
        guard sqlite_nio_sqlite3_column_type(handle, column) == SQLITE_BLOB else { return nil }
        let count = Int(sqlite_nio_sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: sqlite_nio_sqlite3_column_blob(handle, column), count: count))
    }

    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw SQLiteCallError(code, connection: connection) }
    }
}
