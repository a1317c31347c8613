// libFuzzer target: the stores' session record (SessionRecordCoding). What decodes must encode and
// decode again to the same values and trailer.
import Foundation
import FuzzDriver
@testable import SessionKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSessionRecord(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let (values, trailer) = try? SessionRecordCoding.decode(bytes) else { return 0 }
    let again = SessionRecordCoding.encode(values, trailer: trailer)
    guard let (values2, trailer2) = try? SessionRecordCoding.decode(again) else {
        preconditionFailure("an encoded record does not decode")
    }
    precondition(values2 == values && trailer2 == trailer, "a record changes through encode and decode")
    return 0
}

@main
enum FuzzSessionRecordMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzSessionRecord(data!, size) })
    }
}
