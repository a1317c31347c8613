// libFuzzer target: the cookie-date parser (RFC 6265 section 5.1.1). A date it reads must format
// (IMF-fixdate) and read back to the same second.
import Foundation
import FuzzDriver
@testable import SessionKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCookieDate(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    guard let seconds = CookieDate.parseSeconds(text) else { return 0 }
    _ = CookieDate.parseSeconds(text[...])
    let formatted = CookieDate.format(secondsSince1970: seconds)
    precondition(CookieDate.parseSeconds(formatted) == seconds, "a parsed date does not survive format and parse")
    return 0
}

@main
enum FuzzCookieDateMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzCookieDate(data!, size) })
    }
}
