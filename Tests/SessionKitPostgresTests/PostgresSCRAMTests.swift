@testable import SessionKitPostgres
import Testing

/// ``PostgresSCRAM`` without a server: SCRAM-SHA-256 against RFC 7677's worked example (section 3:
/// user "user", password "pencil"), the refusals that keep a server which does not know the
/// password from passing for one that does, and the MD5 answer against Python's hashlib.
@Suite("PostgresSCRAM")
struct PostgresSCRAMTests {
    static let clientNonce = "rOprNGfwEbeRWgbNEkqO"
    static let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    static let clientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

    static func rfcClient() -> PostgresSCRAM {
        PostgresSCRAM(password: "pencil", username: "user", clientNonce: clientNonce)
    }

    @Test func rfc7677ExampleGivesTheExpectedMessagesAndVerifiesTheServer() throws {
        var scram = Self.rfcClient()
        #expect(String(decoding: scram.clientFirstMessage, as: UTF8.self) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let final = try scram.clientFinalMessage(serverFirst: Array(Self.serverFirst.utf8))
        #expect(String(decoding: final, as: UTF8.self) == Self.clientFinal)
        try scram.verify(serverFinal: Array(Self.serverFinal.utf8))
    }

    /// PostgreSQL's form: the user stays empty in SCRAM's messages (the start-up names it).
    @Test func theDefaultClientFirstMessageHasAnEmptyUserAndAFreshNonce() {
        let first = String(decoding: PostgresSCRAM(password: "pencil").clientFirstMessage, as: UTF8.self)
        let second = String(decoding: PostgresSCRAM(password: "pencil").clientFirstMessage, as: UTF8.self)
        #expect(first.hasPrefix("n,,n=,r="))
        #expect(first.count > "n,,n=,r=".count + 16)
        #expect(!first.dropFirst(8).contains(","))
        #expect(first != second, "each exchange needs a nonce of its own")
    }

    @Test(arguments: [
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95H4=",   // one bit changed near the end
        "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",   // the first byte changed
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl9",       // cut short
        "v=",
        "e=invalid-proof",
        "",
    ])
    func aWrongServerSignatureIsRefused(serverFinal: String) throws {
        var scram = Self.rfcClient()
        _ = try scram.clientFinalMessage(serverFirst: Array(Self.serverFirst.utf8))
        #expect(throws: PostgresSCRAM.Failure.self) { try scram.verify(serverFinal: Array(serverFinal.utf8)) }
    }

    /// Mid-exchange (a dump of a connection during its start-up reaches it): no password, no key.
    @Test func aDumpShowsNeitherThePasswordNorItsKeys() throws {
        var scram = Self.rfcClient()
        _ = try scram.clientFinalMessage(serverFirst: Array(Self.serverFirst.utf8))
        var dumped = ""
        dump(scram, to: &dumped)
        #expect(!dumped.contains("pencil") && !dumped.contains("password") && !dumped.contains("serverKey"), "\(dumped)")
        #expect(dumped.contains(Self.clientNonce))
    }

    @Test func aServerFinalMessageBeforeTheExchangeIsRefused() {
        let scram = Self.rfcClient()
        #expect(throws: PostgresSCRAM.Failure.self) { try scram.verify(serverFinal: Array(Self.serverFinal.utf8)) }
    }

    @Test(arguments: [
        "r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",   // another client's nonce
        "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",                                // not extended
        "r=%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",                     // the server's part alone
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",                                                        // none
    ])
    func aServerNonceThatDoesNotExtendTheClientsIsRefused(serverFirst: String) {
        var scram = Self.rfcClient()
        let error = #expect(throws: PostgresSCRAM.Failure.self) { _ = try scram.clientFinalMessage(serverFirst: Array(serverFirst.utf8)) }
        #expect(error?.reason.contains("nonce") == true, "unclear: \(error?.reason ?? "")")
    }

    @Test(arguments: [
        "r=rOprNGfwEbeRWgbNEkqO%hvY,i=4096",                              // no salt
        "r=rOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==",          // no iteration count
        "r=rOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
        "r=rOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000000000",   // minutes of CPU
    ])
    func aServerFirstMessageWithoutAUsableSaltOrCountIsRefused(serverFirst: String) {
        var scram = Self.rfcClient()
        #expect(throws: PostgresSCRAM.Failure.self) { _ = try scram.clientFinalMessage(serverFirst: Array(serverFirst.utf8)) }
    }

    /// Against Python's hashlib:
    /// `"md5" + md5(md5(b"correct horse" + b"sessionkit_md5").hexdigest().encode() + bytes([0x93, 0x01, 0xfe, 0x5a])).hexdigest()`.
    @Test func md5PasswordMatchesHashlib() {
        let answer = PostgresSCRAM.md5Password(user: "sessionkit_md5", password: "correct horse", salt: [0x93, 0x01, 0xFE, 0x5A])
        #expect(answer == "md55572caae38d236f93066c54aa4c8c641")
    }
}
