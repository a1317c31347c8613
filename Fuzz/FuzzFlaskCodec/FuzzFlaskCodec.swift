// libFuzzer target: FlaskSessionCodec's decoder (itsdangerous signature, timestamp, zlib, tagged
// JSON), with a fixed test secret. The first input byte picks the path (modulo 4):
//   0: the rest is a cookie value as a client sends it;
//   1: the rest is the JSON payload, signed with the test secret and a current timestamp;
//   2: the rest is the compressed payload as sent ("." and Base64 of it), signed: inflate is fuzzed;
//   3: the rest is JSON, compressed with zlib and signed: the reader behind inflate is fuzzed.
// `inspectUnverified` reads every input too.
import Foundation
import FuzzDriver
@testable import SessionKit

private let codec = try! FlaskSessionCodec(secretKey: "sessionkit-fuzz-test-key-not-a-secret")
private let context = SessionCodecContext(cookieName: "session", now: 1_700_000_000, lifetime: 86_400)
// 1_700_000_000 as itsdangerous writes it: big-endian bytes, Base64 without padding.
private let timestamp = Base64URL.encode([0x65, 0x53, 0xF1, 0x00])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFlaskCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let rest = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let cookieValue: String
    switch data[0] & 3 {
    case 0: cookieValue = String(decoding: rest, as: UTF8.self)
    case 1: cookieValue = codec.signFields(payload: Base64URL.encode(rest), timestamp: timestamp)
    case 2: cookieValue = codec.signFields(payload: "." + Base64URL.encode(rest), timestamp: timestamp)
    default:
        guard let compressed = FlaskZlib.compress(rest) else { return 0 }
        cookieValue = codec.signFields(payload: "." + Base64URL.encode(compressed), timestamp: timestamp)
    }
    _ = FlaskSessionCodec.inspectUnverified(cookieValue[...])
    guard case .valid(let session, _) = codec.decode(cookieValue[...], context: context) else { return 0 }
    // What Flask's format accepted it can write again (a value Flask's JSON cannot hold fails to
    // encode with an error, which is no finding), and the result must read back the same.
    guard let again = try? codec.encode(session, context: context) else { return 0 }
    guard case .valid(let reread, needsReissue: false) = codec.decode(again[...], context: context) else {
        preconditionFailure("a session the codec accepted does not survive encode and decode")
    }
    precondition(reread.values.keys.sorted() == session.values.keys.sorted(), "a session's keys change through encode and decode")
    return 0
}

@main
enum FuzzFlaskCodecMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzFlaskCodec(data!, size) })
    }
}
