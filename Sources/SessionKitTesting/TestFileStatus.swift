#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file's mode, size and modification time from `stat(2)`, for tests. Foundation's
/// `FileManager.attributesOfItem` on Linux also looks up the owner's and group's names with
/// `getpwuid` and `getgrgid`, which share one static buffer per process: tests that called it on
/// two threads at once crashed the test process (a null pointer in the SQLite store's file-mode test,
/// 2026-12-05).
///
/// ```swift
/// #expect(TestFileStatus(path: path)?.permissions == 0o600)
/// ```
package struct TestFileStatus: Sendable {
    /// The permission bits (`0o600`).
    package let permissions: Int
    /// The size in bytes.
    package let size: Int
    /// The modification time, in nanoseconds since 1970.
    package let modifiedNanoseconds: Int64

    /// The status of the file at `path`, or `nil` when it cannot be read (missing).
    package init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        permissions = Int(status.st_mode) & 0o7777
        size = Int(status.st_size)
        #if canImport(Darwin)
        modifiedNanoseconds = Int64(status.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(status.st_mtimespec.tv_nsec)
        #else
        modifiedNanoseconds = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
        #endif
    }
}
