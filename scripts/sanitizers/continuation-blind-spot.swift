// Shows the ThreadSanitizer blind spot behind the Vapor entry of thread-suppressions.txt: a
// continuation resumed on another thread before the awaiting task has suspended takes the Swift
// runtime's fast path (an atomic in libswift_Concurrency.so, not instrumented), so the edge from
// resume to the code after `await` is invisible, and what was written before the resume is
// reported as racing with what reads it after the await. The program is correct: a resume happens
// before the await returns.
//
//   swiftc -parse-as-library -sanitize=thread scripts/sanitizers/continuation-blind-spot.swift -o /tmp/cbs
//   /tmp/cbs          # resumes at once: races reported (every run of 3, Swift 6.3.1, 2026-12-05)
//   /tmp/cbs --late   # resumes 1 ms later, after the task suspended: no report (0 in 3 runs)
import Dispatch

final class Box: @unchecked Sendable { var value = 0 }

@main
struct ContinuationBlindSpot {
    static func main() async {
        let late = CommandLine.arguments.contains("--late")
        var sum = 0
        for _ in 0..<(late ? 2_000 : 20_000) {
            let box: Box = await withUnsafeContinuation { continuation in
                let work: @Sendable () -> Void = {
                    let box = Box()
                    box.value = 1
                    continuation.resume(returning: box)
                }
                if late {
                    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(1), execute: work)
                } else {
                    DispatchQueue.global().async(execute: work)
                }
                var spin = 0
                for i in 0..<200 { spin &+= i }   // often still here when the resume comes
                if spin == -1 { print(spin) }
            }
            sum += box.value
        }
        print("sum", sum)
    }
}
