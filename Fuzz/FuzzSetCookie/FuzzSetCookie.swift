// libFuzzer target: the Set-Cookie header parser (RFC 6265bis section 5.6, as a browser reads it).
// A parsed cookie is also written back out (`headerValue`, `description`), which must not trap.
import Foundation
import FuzzDriver
@testable import SessionKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSetCookie(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let headerValue = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let cookie = SetCookie(parsing: headerValue) else { return 0 }
    _ = cookie.headerValue
    _ = cookie.description
    return 0
}

@main
enum FuzzSetCookieMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzSetCookie(data!, size) })
    }
}
