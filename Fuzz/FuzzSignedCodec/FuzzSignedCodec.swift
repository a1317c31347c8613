// libFuzzer target: SignedSessionCodec's decoder, with a fixed test key. The first input byte picks
// the path: even, the rest is a cookie value as a client sends it; odd, the rest is a payload that is
// signed with the test key first, so that the payload reader behind the MAC check is fuzzed. A
// session it accepts must encode and decode again to the same values.
import Crypto
import Foundation
import FuzzDriver
@testable import SessionKit

private let keyRing = try! KeyRing(current: SessionSecret(text: "sessionkit-fuzz-test-key-not-a-secret-0123456789"))
private let codec = SignedSessionCodec(keys: keyRing)
private let key = keyRing.derive(purpose: "sessionkit/signed/v1")[0]
private let context = SessionCodecContext(cookieName: "session", now: 1_700_000_000, lifetime: 86_400)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSignedCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let rest = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let cookieValue: String
    if data[0] & 1 == 0 {
        cookieValue = String(decoding: rest, as: UTF8.self)
    } else {
        let version = NativeCookieEnvelope.signedHMACSHA256
        var message: [UInt8] = [version, key.id] + rest
        var mac = HMAC<SHA256>(key: key.key)
        mac.update(data: NativeCookieEnvelope.associatedData(version: version, purpose: "session", cookieName: context.cookieName))
        mac.update(data: message)
        message += Array(mac.finalize())
        cookieValue = Base64URL.encode(message)
    }
    _ = SignedSessionCodec.unverifiedPayload(cookieValue[...])
    guard case .valid(let session, _) = codec.decode(cookieValue[...], context: context) else { return 0 }
    let again = try! codec.encode(session, context: context)
    guard case .valid(let reread, needsReissue: false) = codec.decode(again[...], context: context) else {
        preconditionFailure("a session the codec accepted does not survive encode and decode")
    }
    precondition(reread.values == session.values, "a session's values change through encode and decode")
    return 0
}

@main
enum FuzzSignedCodecMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzSignedCodec(data!, size) })
    }
}
