// libFuzzer target: the Cookie request header parser, in both modes (RFC 6265bis and Werkzeug's).
// Besides not crashing, every cookie's value read in place (`valueSlice`) must equal its copy
// (`value`), and `first(name)` must be the first of `all(name)`.
import Foundation
import FuzzDriver
@testable import SessionKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestCookies(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let header = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for decoding in [CookieValueDecoding.standard, .werkzeug] {
        let cookies = RequestCookies(header: header, decoding: decoding)
        for index in cookies.indices {
            let (name, value) = cookies[index]
            precondition(String(cookies.valueSlice(at: index)) == value, "valueSlice differs from value (\(decoding))")
            precondition(cookies.contains(name), "a parsed name is not found (\(decoding))")
        }
        for name in cookies.names {
            precondition(cookies.first(name) == cookies.all(name).first, "first(name) is not all(name).first (\(decoding))")
        }
    }
    // Several header fields are joined with ";" (HTTP/2 sends one field per cookie).
    let fields = header.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    _ = RequestCookies(headers: fields, decoding: .werkzeug).pairs
    return 0
}

@main
enum FuzzRequestCookiesMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzRequestCookies(data!, size) })
    }
}
