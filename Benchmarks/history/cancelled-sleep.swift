// What a cancelled Task.sleep keeps until its original deadline (Benchmarks/history/round-9.md):
// starts 200,000 sleeps of SECONDS in batches of 1,000, cancels each batch once it sleeps, waits
// for them, and prints the resident memory.
//
//   swiftc -O Benchmarks/history/cancelled-sleep.swift -o /tmp/cancelled-sleep
//   /tmp/cancelled-sleep 0; /tmp/cancelled-sleep 60     # 2026-12-05, Swift 6.3.1: 22 MB, then 162 MB
import Foundation
func rss() -> Int {
    let text = (try? String(contentsOfFile: "/proc/self/status")) ?? ""
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }
    return 0
}
let seconds = Int(CommandLine.arguments[1])!
let n = 200_000
print("start rss \(rss()) kB")
for _ in 0..<(n / 1000) {
    var tasks: [Task<Void, Never>] = []
    for _ in 0..<1000 { tasks.append(Task { try? await Task.sleep(for: .seconds(seconds)) }) }
    try await Task.sleep(for: .milliseconds(2))   // let them start sleeping
    for t in tasks { t.cancel() }
    for t in tasks { _ = await t.value }
}
print("after \(n) cancelled sleeps of \(seconds) s: rss \(rss()) kB")
try await Task.sleep(for: .seconds(2))
print("2 s later: rss \(rss()) kB")
