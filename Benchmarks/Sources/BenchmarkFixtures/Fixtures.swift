// Fixtures shared by the micro benchmarks and the profiling driver.
import Foundation
import SessionKit

public let secret = SessionSecret(text: String(repeating: "benchmark-secret-", count: 3))
public let keys = try! KeyRing(current: secret)
public let now: Int64 = 1_800_000_000
public let context = SessionCodecContext(cookieName: "session", now: now, lifetime: 31 * 24 * 3600)

/// Deterministic, incompressible-ish text (base64url alphabet), so that Flask's zlib step does not
/// shrink the large sessions to nothing.
public func filler(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    var state = seed
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    for _ in 0..<max(0, count) {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        bytes.append(alphabet[Int(state >> 58)])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A session of about `size` bytes of keys and JSON values: a user ID, a CSRF token, a counter and
/// a padding string.
public func sessionData(size: Int) -> SessionData {
    var values: [String: SessionValue] = [:]
    values["_user_id"] = try! SessionValue(encoding: "user-42")
    values["csrf"] = try! SessionValue(encoding: filler(32, seed: 7))
    values["counter"] = try! SessionValue(encoding: 41)
    let fixed = 8 + 9 + 4 + 34 + 7 + 2 + 3 + 2 // keys and JSON of the three above, and "pad" + quotes
    values["pad"] = try! SessionValue(encoding: filler(size - fixed))
    return SessionData(values: values)
}

/// Sizes of session data. The native formats accept cookies of at most 4096 bytes, so "4 KB" is
/// the largest session whose encrypted cookie still fits (2900 bytes of data: about 3.9 KB of
/// cookie); the Flask format's limit is 8192 and it gets the same data.
public let sessionSizes: [(label: String, bytes: Int)] = [("100B", 100), ("1KB", 1000), ("4KB", 2900)]


/// Base64url without padding, decoded with Foundation (fixture set-up only).
public func Base64URLDecode(_ text: String) -> Data {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base64.utf8.count % 4 != 0 { base64 += "=" }
    return Data(base64Encoded: base64)!
}


/// The associated data the native codecs bind in (version byte, purpose "session", cookie "session").
public func floorAAD(version: UInt8) -> [UInt8] {
    Array("sessionkit".utf8) + [0, version] + Array("session".utf8) + [0] + Array("session".utf8)
}
