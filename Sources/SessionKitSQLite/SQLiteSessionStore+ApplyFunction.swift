import SessionKit
import VaporCSQLite

/// The SQL function through which the store's `UPDATE`s merge a change into a stored session, so
/// that each write is one statement under SQLite's write lock.
extension SQLiteSessionStore {
    /// `sessionkit_apply_delta(data, delta)`: the stored values with a delta (values to set, and in
    /// the trailer the keys to remove) merged in. Entries that stay are copied as they are.
    /// `sessionkit_apply_delta(data, delta, operations)` then applies atomic per-key operations
    /// (``SessionOperationWire``'s JSON) to the values as they are in this row now, inside the
    /// `UPDATE`: under SQLite's write lock, so concurrent writers, in this process or another on
    /// the same file, never lose one another's operations.
    static let applyDelta: @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void = { context, count, arguments in
        func blob(_ value: OpaquePointer?) -> UnsafeRawBufferPointer? {
            guard sqlite_nio_sqlite3_value_type(value) == SQLITE_BLOB else { return nil }
            let count = Int(sqlite_nio_sqlite3_value_bytes(value))
            return UnsafeRawBufferPointer(start: sqlite_nio_sqlite3_value_blob(value), count: count)
        }
        guard count == 2 || count == 3, let arguments, let data = blob(arguments[0]), let delta = blob(arguments[1]) else {
            sqlite_nio_sqlite3_result_error(context, "sessionkit_apply_delta needs two or three BLOBs", -1)
            return
        }
        do {
            let (set, trailer) = try SessionRecordCoding.decode(delta)
            let update = SessionDelta.update(set: set, remove: Set(trailer.compactMap { $0 }))
            var merged = try SessionRecordCoding.applying(update, toBlob: Array(data))
            if count == 3 {
                guard let operations = blob(arguments[2]) else { throw SessionStoreError(.corruptRecord, "operations are not a BLOB") }
                merged = try SessionRecordCoding.applying(try SessionOperationWire.decode(operations), toBlob: merged)
            }
            merged.withUnsafeBytes { bytes in
                sqlite_nio_sqlite3_result_blob64(context, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64(bytes.count), SQLitePreparedStatement.transient)
            }
        } catch {
            // A plain SQLITE_ERROR (SQLITE_CORRUPT would mark the whole transaction as damaged);
            // the store recognizes the message and reports a corrupt record.
            sqlite_nio_sqlite3_result_error(context, corruptRecordMessage + ": \(error)", -1)
        }
    }

    /// How the merge function's errors begin.
    static let corruptRecordMessage = "sessionkit_apply_delta: corrupt record"
}
