// libFuzzer target: the session ID parser. An ID has exactly one spelling, so a parsed ID must write
// back as the very input; its storage key must be computable.
import Foundation
import FuzzDriver
@testable import SessionKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSessionID(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let id = SessionID(cookieValue: text) else { return 0 }
    precondition(id.cookieValue == text, "a parsed session ID does not write back as its input")
    precondition(SessionID(cookieValue: text[...]) == id, "Substring and String parse differently")
    _ = id.storageKey
    return 0
}

@main
enum FuzzSessionIDMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzSessionID(data!, size) })
    }
}
