// libFuzzer target: the Flask tagged-JSON reader (and the plain JSON reader behind SessionValue).
// What it reads must write out and read back, and the second writing must equal the first.
import Foundation
import FuzzDriver
@testable import SessionKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFlaskJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    if let value = try? FlaskJSON.parseTagged(bytes) {
        let written = FlaskJSON.taggedBytes(value)
        guard let reread = try? FlaskJSON.parseTagged(written) else {
            preconditionFailure("tagged JSON written by us does not read back")
        }
        precondition(FlaskJSON.taggedBytes(reread) == written, "tagged JSON changes through a second write")
    }
    if let value = try? FlaskJSON.parse(bytes) {
        let written = FlaskJSON.plainBytes(value)
        guard let reread = try? FlaskJSON.parse(written) else {
            preconditionFailure("plain JSON written by us does not read back")
        }
        precondition(FlaskJSON.plainBytes(reread) == written, "plain JSON changes through a second write")
    }
    return 0
}

@main
enum FuzzFlaskJSONMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzFlaskJSON(data!, size) })
    }
}
