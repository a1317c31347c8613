import Crypto
import Foundation

/// The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it, without channel
/// binding (`n,,`): the client's first message, its final message with the proof, and the check of
/// the server's signature, so a server that does not know the password cannot pass for one that does.
///
/// ```swift
/// var scram = PostgresSCRAM(password: password)
/// send(scram.clientFirstMessage)                                   // SASLInitialResponse
/// send(try scram.clientFinalMessage(serverFirst: continueData))    // SASLResponse
/// try scram.verify(serverFinal: finalData)                         // SASLFinal
/// ```
struct PostgresSCRAM: CustomReflectable {
    struct Failure: Error {
        let reason: String
    }

    /// Neither the password nor the keys made from it.
    var customMirror: Mirror {
        Mirror(self, children: ["username": username, "clientNonce": clientNonce], displayStyle: .struct)
    }

    static let mechanism = "SCRAM-SHA-256"

    private let password: [UInt8]
    private let username: String
    private let clientNonce: String
    private var authMessage: [UInt8] = []
    private var serverKey: SymmetricKey?

    /// PostgreSQL takes the user from the start-up message and ignores SCRAM's, so `username`
    /// stays empty there (as libpq sends it); the tests give one to check RFC 7677's example.
    init(password: String, username: String = "", clientNonce: String? = nil) {
        self.password = Array(password.utf8)
        self.username = username
        self.clientNonce = clientNonce ?? Self.makeNonce()
    }

    private var clientFirstBare: String { "n=\(username),r=\(clientNonce)" }

    var clientFirstMessage: [UInt8] { Array("n,,\(clientFirstBare)".utf8) }

    /// The final message for the server's first (`r=…,s=…,i=…`).
    mutating func clientFinalMessage(serverFirst: [UInt8]) throws(Failure) -> [UInt8] {
        guard let text = String(validating: serverFirst, as: UTF8.self) else { throw Failure(reason: "a server-first message that is not UTF-8") }
        var nonce: String?, salt: [UInt8]?, iterations: Int?
        for attribute in text.split(separator: ",") {
            let value = attribute.dropFirst(2)
            switch attribute.prefix(2) {
            case "r=": nonce = String(value)
            case "s=": salt = Data(base64Encoded: String(value)).map { Array($0) }
            case "i=": iterations = Int(value)
            default: continue
            }
        }
        guard let nonce, nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count else {
            throw Failure(reason: "a server nonce that does not extend the client's")
        }
        guard let salt, !salt.isEmpty else { throw Failure(reason: "no salt") }
        // 4096 is PostgreSQL's default; the cap keeps a hostile server from costing minutes of CPU.
        guard let iterations, (1...1_000_000).contains(iterations) else { throw Failure(reason: "an iteration count out of range") }

        let salted = Self.saltedPassword(password, salt: salt, iterations: iterations)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: salted))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let withoutProof = "c=biws,r=\(nonce)"   // biws: base64 of "n,,"
        authMessage = Array("\(clientFirstBare),\(text),\(withoutProof)".utf8)
        let signature = Array(HMAC<SHA256>.authenticationCode(for: authMessage, using: SymmetricKey(data: storedKey)))
        let proof = zip(clientKey, signature).map { $0 ^ $1 }
        serverKey = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array("Server Key".utf8), using: salted)))
        return Array("\(withoutProof),p=\(Data(proof).base64EncodedString())".utf8)
    }

    /// Checks the server's final message (`v=…`) in constant time; throws when it is wrong or an error (`e=…`).
    func verify(serverFinal: [UInt8]) throws(Failure) {
        guard let serverKey, let text = String(validating: serverFinal, as: UTF8.self) else {
            throw Failure(reason: "a final message out of turn")
        }
        guard text.hasPrefix("v="), let presented = Data(base64Encoded: String(text.dropFirst(2).prefix { $0 != "," })) else {
            throw Failure(reason: "the server's final message carries no signature")
        }
        let expected = Array(HMAC<SHA256>.authenticationCode(for: authMessage, using: serverKey))
        var difference = UInt8(expected.count == presented.count ? 0 : 1)
        for (index, byte) in expected.enumerated() { difference |= byte ^ (index < presented.count ? presented[index] : 0) }
        guard difference == 0 else { throw Failure(reason: "the server's signature is wrong: it does not know the password") }
    }

    /// PBKDF2-HMAC-SHA-256 with one block (SCRAM's Hi()).
    static func saltedPassword(_ password: [UInt8], salt: [UInt8], iterations: Int) -> SymmetricKey {
        let key = SymmetricKey(data: password)
        var block = Array(HMAC<SHA256>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = block
        for _ in 1..<iterations {
            block = Array(HMAC<SHA256>.authenticationCode(for: block, using: key))
            for index in result.indices { result[index] ^= block[index] }
        }
        return SymmetricKey(data: result)
    }

    /// 18 random bytes in base64 (printable, no comma).
    private static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<18).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
    }

    /// The answer to an MD5 challenge: `md5` + md5hex(md5hex(password + user) + salt).
    static func md5Password(user: String, password: String, salt: [UInt8]) -> String {
        func hex(_ bytes: [UInt8]) -> String {
            let digits = Array("0123456789abcdef".utf8)
            var text: [UInt8] = []
            for byte in Insecure.MD5.hash(data: bytes) {
                text.append(digits[Int(byte >> 4)])
                text.append(digits[Int(byte & 15)])
            }
            return String(decoding: text, as: UTF8.self)
        }
        let inner = hex(Array((password + user).utf8))
        return "md5" + hex(Array(inner.utf8) + salt)
    }
}
