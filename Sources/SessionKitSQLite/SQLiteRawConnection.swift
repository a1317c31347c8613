#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import VaporCSQLite

/// One SQLite connection, called directly through SQLite's C API (the copy of SQLite that
/// sqlite-nio builds), with its prepared statements kept for reuse.
///
/// sqlite-nio runs every call on a thread pool and prepares every statement anew; the store's hot
/// statements are few and fixed, so it keeps them prepared (`SQLITE_PREPARE_PERSISTENT`) and
/// decides itself which thread runs them. A connection is not safe to use from two threads at
/// once: its owner (``SQLiteWriter``, ``SQLiteReaderPool``) lends it to one caller at a time.
///
/// ```swift
/// let connection = try SQLiteRawConnection(path: "/tmp/s.sqlite")
/// try connection.execute("PRAGMA journal_mode = WAL")
/// let n = try connection.withStatement("SELECT ?1 + 1") { s in try s.bind(1, Int64(41)); return try s.step() ? s.int64(0) : nil }
/// connection.close()
/// ```
final class SQLiteRawConnection: @unchecked Sendable {
    private(set) var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// The last ``setBusyTimeout(milliseconds:)``.
    private(set) var busyTimeoutMilliseconds = 0

    /// Opens (creating when missing, readable and writable by its owner only) the database file at
    /// `path`; with `readOnly`, opens an existing file for reading only.
    ///
    /// SQLite would create the file with mode 0644 less the umask: session data readable by every
    /// local user. It is created here first with 0600, and SQLite gives the `-wal` and `-shm` files
    /// the database file's mode.
    init(path: String, readOnly: Bool = false) throws {
        let initialized = Self.initialized
        guard initialized == SQLITE_OK else { throw SQLiteCallError(initialized, connection: nil) }
        if !readOnly { createPrivately(path) }
        var handle: OpaquePointer?
        // NOMUTEX: the owner guarantees one thread at a time; SQLite's own mutex would be wasted.
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK else {
            let error = SQLiteCallError(code, connection: handle)
            sqlite_nio_sqlite3_close_v2(handle)
            throw error
        }
        sqlite_nio_sqlite3_extended_result_codes(handle, 1)
        self.handle = handle
    }

    deinit { close() }

    /// `sqlite3_initialize()`, run once before the first open, in a Swift lazy global (a
    /// `swift_once`): every later open sees SQLite's global state set up.
    ///
    /// `sqlite3_open_v2` would initialize SQLite itself, but two first opens on two threads then
    /// meet in SQLite's own check of `isInit`, a plain read ordered only by a memory barrier, which
    /// ThreadSanitizer reports as races on `sqlite3Config` (`scripts/test --sanitize thread`,
    /// 2026-12-05: three reports, two `SQLiteRawConnection` tests opening their first connections
    /// at once). SQLite's documentation asks applications to call it first anyway.
    private static let initialized: Int32 = sqlite_nio_sqlite3_initialize()

    /// Finalizes the prepared statements and closes the connection (idempotent).
    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements = [:]
        if let handle { sqlite_nio_sqlite3_close_v2(handle) }
        handle = nil
    }

    /// How long a statement waits for a lock held by another connection before it fails with
    /// `SQLITE_BUSY`; 0 fails at once.
    ///
    /// SQLite's own busy timeout sleeps 1 ms, then 2, 5, 10 …: far longer than the store's locks
    /// are held (a checkpoint takes the write lock for microseconds), on a thread that serves
    /// requests. This handler polls every 50 µs for the first millisecond, then every millisecond.
    func setBusyTimeout(milliseconds: Int) {
        guard let handle else { return }
        busyTimeoutMilliseconds = milliseconds
        guard milliseconds > 0 else {
            sqlite_nio_sqlite3_busy_handler(handle, nil, nil)
            return
        }
        sqlite_nio_sqlite3_busy_handler(handle, { context, attempt in
            let timeout = Int(bitPattern: context)
            // Attempts 0-19 wait 50 µs each (1 ms in all), then 1 ms each.
            let waited = attempt < 20 ? Int(attempt) / 20 : 1 + Int(attempt) - 20
            guard waited < timeout else { return 0 }
            usleep(attempt < 20 ? 50 : 1000)
            return 1
        }, UnsafeMutableRawPointer(bitPattern: milliseconds))
    }

    /// Runs SQL without parameters (one or more statements; rows are ignored).
    func execute(_ sql: String) throws {
        try open()
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite_nio_sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite_nio_sqlite3_free(message) }
        guard code == SQLITE_OK else {
            throw SQLiteCallError(code: sqlite_nio_sqlite3_extended_errcode(handle), message: message.map { String(cString: $0) } ?? "SQLite error \(code)")
        }
    }

    /// Lends the prepared statement for `sql` (prepared on first use and kept), then resets it
    /// and clears its parameters.
    func withStatement<Result>(_ sql: String, _ body: (SQLitePreparedStatement) throws -> Result) throws -> Result {
        let statement = try prepared(sql)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        return try body(SQLitePreparedStatement(handle: statement, connection: handle!))
    }

    /// Rows changed by the last `INSERT`, `UPDATE` or `DELETE` on this connection.
    var changes: Int { Int(sqlite_nio_sqlite3_changes64(handle)) }

    /// Whether a transaction is open (`BEGIN` ran and neither `COMMIT` nor a rollback ended it).
    var isInTransaction: Bool { handle != nil && sqlite_nio_sqlite3_get_autocommit(handle) == 0 }

    /// Registers a deterministic SQL function of `argumentCount` arguments.
    func register(function name: String, argumentCount: Int32, _ function: @escaping @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void) throws {
        try open()
        let code = sqlite_nio_sqlite3_create_function_v2(
            handle, name, argumentCount, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil, function, nil, nil, nil
        )
        guard code == SQLITE_OK else { throw SQLiteCallError(code, connection: handle) }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        try open()
        var statement: OpaquePointer?
        let code = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw SQLiteCallError(code == SQLITE_OK ? SQLITE_MISUSE : code, connection: handle)
        }
        statements[sql] = statement
        return statement
    }

    private func open() throws {
        guard handle != nil else { throw SQLiteCallError(code: SQLITE_MISUSE, message: "the SQLite connection is closed") }
    }
}

/// Creates an empty file at `path` with mode 0600 unless something is there already (SQLite reads
/// an empty file as an empty database). Special names (`:memory:`, URIs) are left to SQLite.
private func createPrivately(_ path: String) {
    guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else { return }
    let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    // Already there (EEXIST), or not creatable (SQLite's open reports why).
    guard descriptor >= 0 else { return }
    // The umask can only narrow 0600; set it exactly.
    _ = fchmod(descriptor, 0o600)
    close(descriptor)
}
