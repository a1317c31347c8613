// Shows the LeakSanitizer reports of scripts/sanitizers/address-suppressions.txt that come from
// Foundation alone (swift-corelibs-foundation, FoundationEssentials), with no SessionKit code:
//
//   swiftc -sanitize=address scripts/sanitizers/lsan-foundation.swift -o /tmp/lsan-foundation
//   ASAN_OPTIONS=detect_leaks=1 /tmp/lsan-foundation          # reads, then runs and waits
//   ASAN_OPTIONS=detect_leaks=1 /tmp/lsan-foundation --poll   # the same, without waitUntilExit()
//
// Swift 6.3.1 on Linux, 2026-12-05: the first reports a direct leak of 4,096 bytes from
// FileManager.contents(atPath:) of an empty file (readBytesFromFile's buffer), and one of 32 bytes
// (a weak reference's side table) from Process.run(), whichever the number of runs; with --poll,
// each Process that was never waited for is kept with what it refers to (10-12 KB for the 5).
import Foundation

let empty = NSTemporaryDirectory() + "/lsan-foundation-\(getpid())"
_ = FileManager.default.createFile(atPath: empty, contents: Data())
print("an empty file reads as", FileManager.default.contents(atPath: empty)?.count as Any, "bytes")
try? FileManager.default.removeItem(atPath: empty)

let poll = CommandLine.arguments.contains("--poll")
for _ in 0..<5 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    process.standardOutput = Pipe()
    try process.run()
    if poll {
        while process.isRunning { usleep(10_000) }
    } else {
        process.waitUntilExit()
    }
}
print("ran /bin/true 5 times,", poll ? "polling isRunning" : "waiting with waitUntilExit()")
fflush(stdout)   // LeakSanitizer ends the process without flushing
