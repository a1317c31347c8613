// Runs one operation N times, for profiling and instruction counting:
//
//   valgrind --tool=callgrind .build/release/SessionKitProfile encrypted-decode-200 10000
//   .build/release/SessionKitProfile memory-store 1000000  # prints resident memory
//
// The per-operation instruction count is (Ir(N) - Ir(0)) / N, which cancels the set-up.
import BenchmarkFixtures
import Crypto
import Foundation
import Logging
import SessionKit

@inline(never) func consume<T>(_ value: T) { withExtendedLifetime(value) {} }

let arguments = CommandLine.arguments
guard arguments.count == 3, let count = Int(arguments[2]) else {
    print("usage: SessionKitProfile OPERATION COUNT   (operations: \(operations.keys.sorted().joined(separator: ", ")))")
    exit(2)
}

let encrypted = EncryptedSessionCodec(keys: keys)
let signed = SignedSessionCodec(keys: keys)
let flask = try! FlaskSessionCodec(secretKey: secret.bytes)

func codecOperation(_ codec: any SessionCodec, size: Int, decode: Bool) -> (Int) -> Void {
    let data = sessionData(size: size)
    let cookie = try! codec.encode(data, context: context)
    if decode {
        return { n in for _ in 0..<n { consume(codec.decode(cookie[...], context: context)) } }
    }
    return { n in for _ in 0..<n { consume(try! codec.encode(data, context: context)) } }
}

func residentMemory() -> String {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    return status.split(separator: "\n").filter { $0.hasPrefix("VmRSS") || $0.hasPrefix("VmHWM") }.joined(separator: "  ")
}

let operations: [String: () -> (Int) -> Void] = [
    "encrypted-decode-200": { codecOperation(encrypted, size: 200, decode: true) },
    "signed-decode-200": { codecOperation(signed, size: 200, decode: true) },
    "flask-decode-200": { codecOperation(flask, size: 200, decode: true) },
    "encrypted-encode-100": { codecOperation(encrypted, size: 100, decode: false) },
    "signed-encode-100": { codecOperation(signed, size: 100, decode: false) },
    "flask-encode-100": { codecOperation(flask, size: 100, decode: false) },
    "aes-open-200": {
        let plaintextCount = Array(Base64URLDecode(try! encrypted.encode(sessionData(size: 200), context: context))).count - 30
        let key = SymmetricKey(size: .bits256)
        let aad = floorAAD(version: 0x01)
        let combined = Array(try! AES.GCM.seal(Array(repeating: UInt8(7), count: plaintextCount), using: key, authenticating: aad).combined!)
        return { n in
            for _ in 0..<n { consume(try! AES.GCM.open(try! AES.GCM.SealedBox(combined: combined), using: key, authenticating: aad)) }
        }
    },
    "hmac-verify-200": {
        let message = Array(Base64URLDecode(try! signed.encode(sessionData(size: 200), context: context)).dropLast(32))
        let key = SymmetricKey(size: .bits256)
        let aad = floorAAD(version: 0x81)
        let mac = Array(HMAC<SHA256>.authenticationCode(for: aad + message, using: key))
        return { n in
            for _ in 0..<n {
                var hmac = HMAC<SHA256>(key: key)
                hmac.update(data: aad)
                hmac.update(data: message)
                consume(hmac.finalize() == mac)
            }
        }
    },
    "session-read-string": {
        let cookie = try! encrypted.encode(sessionData(size: 100), context: context)
        guard case .valid(let loaded, _) = encrypted.decode(cookie[...], context: context) else { fatalError() }
        return { n in for _ in 0..<n { consume(Session(data: loaded)["_user_id", as: String.self]) } }
    },
    "session-read-int": {
        let cookie = try! encrypted.encode(sessionData(size: 100), context: context)
        guard case .valid(let loaded, _) = encrypted.decode(cookie[...], context: context) else { fatalError() }
        return { n in for _ in 0..<n { consume(Session(data: loaded)["counter", as: Int.self]) } }
    },
    "cookie-parse-30": {
        var pairs = (0..<29).map { "pref\($0)=\(filler(16, seed: UInt64($0 + 1)))" }
        pairs.insert("session=\(try! encrypted.encode(sessionData(size: 100), context: context))", at: 15)
        let header = pairs.joined(separator: "; ")
        return { n in for _ in 0..<n { consume(RequestCookies(header: header)["session"]) } }
    },
    // What the middleware does for one request, without HTTP: parse the Cookie header, load,
    // read (or increment) a value, commit, serialize Set-Cookie.
    "engine-read-encrypted": { engineOperation(.cookie(encrypted), write: false) },
    "engine-write-encrypted": { engineOperation(.cookie(encrypted), write: true) },
    "engine-read-signed": { engineOperation(.cookie(signed), write: false) },
    "engine-write-signed": { engineOperation(.cookie(signed), write: true) },
    "engine-read-memory": { engineOperation(.server(MemorySessionStore(clock: { now })), write: false) },
    "engine-write-memory": { engineOperation(.server(MemorySessionStore(clock: { now })), write: true) },
    // Memory: COUNT sessions of about 100 bytes (user ID, CSRF token, counter, padding; a user
    // agent and address), each of its own user, in one MemorySessionStore.
    // PROFILE_ANONYMOUS=1: no user ID (no per-user index entry); PROFILE_NO_CLIENT=1: no user agent/address.
    "memory-store": {
        let anonymous = ProcessInfo.processInfo.environment["PROFILE_ANONYMOUS"] == "1"
        let noClient = ProcessInfo.processInfo.environment["PROFILE_NO_CLIENT"] == "1"
        return { n in
            let store = MemorySessionStore(configuration: .init(maximumSessions: max(n, 1)), clock: { now })
            let values = sessionData(size: 100).values
            print("before:", residentMemory())
            let semaphore = DispatchSemaphore(value: 0)
            Task.detached {
                for index in 0..<n {
                    var session = values
                    session["_user_id"] = anonymous ? nil : try! SessionValue(encoding: "user-\(index)")
                    try! await store.create(SessionID().storageKey, StoredSession(
                        values: session, createdAt: now, expiresAt: now + 7200, absoluteExpiresAt: now + 90 * 24 * 3600,
                        userAgent: noClient ? nil : "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                        ipAddress: noClient ? nil : "203.0.113.7"
                    ))
                }
                semaphore.signal()
            }
            semaphore.wait()
            print("after \(store.count) sessions:", residentMemory())
        }
    },
]

func blocking(_ body: @escaping @Sendable () async -> Void) {
    let semaphore = DispatchSemaphore(value: 0)
    Task.detached {
        await body()
        semaphore.signal()
    }
    semaphore.wait()
}

func engineOperation(_ storage: SessionEngine.Storage, write: Bool) -> (Int) -> Void {
    var configuration = SessionConfiguration()
    configuration.cookie.secure = false
    let engine = SessionEngine(storage: storage, configuration: configuration, logger: Logger(label: "profile"), clock: { now })
    nonisolated(unsafe) var header = ""
    blocking {
        let session = try! await engine.load(from: RequestCookies())
        session["user"] = "user-42"
        session["counter"] = 0
        let commit = try! await engine.commit(session)
        header = "theme=dark; session=" + commit.setCookies[0].value + "; lang=en"
    }
    let cookieHeader = header
    return { n in
        blocking {
            for _ in 0..<n {
                let cookies = RequestCookies(header: cookieHeader)
                let session = try! await engine.load(from: cookies)
                if write {
                    session["counter"] = (session["counter", as: Int.self] ?? 0) + 1
                } else {
                    consume(session["user", as: String.self])
                }
                let commit = try! await engine.commit(session)
                for cookie in commit.setCookies { consume(cookie.headerValue) }
            }
        }
    }
}

guard let make = operations[arguments[1]] else {
    print("unknown operation \(arguments[1]); operations: \(operations.keys.sorted().joined(separator: ", "))")
    exit(2)
}
let operation = make()
operation(count)
