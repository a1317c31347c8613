// libFuzzer target: EncryptedSessionCodec's decoder, with a fixed test key. The first input byte
// picks the path: even, the rest is a cookie value as a client sends it (Base64, envelope, AEAD
// check); odd, the rest is sealed with the test key first (AES-GCM or ChaCha20-Poly1305 by bit 1),
// so that the payload reader behind the authentication is fuzzed. A session it accepts must encode
// and decode again to the same values.
import Crypto
import Foundation
import FuzzDriver
@testable import SessionKit

private let keyRing = try! KeyRing(current: SessionSecret(text: "sessionkit-fuzz-test-key-not-a-secret-0123456789"))
private let codec = EncryptedSessionCodec(keys: keyRing)
private let chaChaCodec = EncryptedSessionCodec(keys: keyRing, algorithm: .chaCha20Poly1305)
private let key = keyRing.derive(purpose: "sessionkit/encrypted/v1")[0]
private let context = SessionCodecContext(cookieName: "session", now: 1_700_000_000, lifetime: 86_400)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEncryptedCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let mode = data[0]
    let rest = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let cookieValue: String
    if mode & 1 == 0 {
        cookieValue = String(decoding: rest, as: UTF8.self)
    } else {
        let version = mode & 2 == 0 ? NativeCookieEnvelope.encryptedAESGCM : NativeCookieEnvelope.encryptedChaChaPoly
        let aad = NativeCookieEnvelope.associatedData(version: version, purpose: "session", cookieName: context.cookieName)
        let nonce: [UInt8] = Array(repeating: 7, count: 12)
        var output: [UInt8] = [version, key.id]
        if version == NativeCookieEnvelope.encryptedAESGCM {
            output += try! AES.GCM.seal(rest, using: key.key, nonce: AES.GCM.Nonce(data: nonce), authenticating: aad).combined!
        } else {
            output += try! ChaChaPoly.seal(rest, using: key.key, nonce: ChaChaPoly.Nonce(data: nonce), authenticating: aad).combined
        }
        cookieValue = Base64URL.encode(output)
    }
    for codec in [codec, chaChaCodec] {
        guard case .valid(let session, _) = codec.decode(cookieValue[...], context: context) else { continue }
        let again = try! codec.encode(session, context: context)
        guard case .valid(let reread, needsReissue: false) = codec.decode(again[...], context: context) else {
            preconditionFailure("a session the codec accepted does not survive encode and decode")
        }
        precondition(reread.values == session.values, "a session's values change through encode and decode")
    }
    return 0
}

@main
enum FuzzEncryptedCodecMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzEncryptedCodec(data!, size) })
    }
}
