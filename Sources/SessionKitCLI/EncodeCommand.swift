import ArgumentParser
import SessionKit

/// `sessionkit encode`: the inverse of decode.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Make a session cookie value from JSON.",
        discussion: """
        For --format flask the JSON is Flask's tagged JSON (e.g. {"_flashes":[{" t":["message","Hi"]}]}) \
        and the output is exactly the cookie value Flask would produce at --timestamp. For the native \
        formats the JSON is a plain object.
        """
    )

    @Option(help: "The format: flask, signed or encrypted.")
    var format: CookieSessionFormat
    @OptionGroup var secrets: SecretOptions
    @Option(help: "The issue time in Unix seconds (default: now).")
    var timestamp: Int64?
    @Option(help: "The cookie's name (native formats bind it into the MAC).")
    var cookieName = "session"
    @Option(help: "Seconds the cookie stays valid (native formats write the deadline inside).")
    var maxAge: Int64 = 31 * 24 * 3600
    @Argument(help: "The session as a JSON object.")
    var json: String

    func run() throws {
        let timestamp = timestamp ?? SessionClock.system()
        let codec = try secrets.codec(format)
        let session: FlaskValue
        do {
            session = format == .flask ? try FlaskJSON.parseTagged(Array(json.utf8)) : try FlaskJSON.parse(Array(json.utf8))
        } catch {
            throw ValidationError("the session is not valid JSON: \(error)")
        }
        guard case .dict(let entries) = session else { throw ValidationError("the session must be a JSON object") }
        if let flask = codec as? FlaskSessionCodec {
            print(try flask.sign(session: entries, timestamp: timestamp))
            return
        }
        var values: [String: SessionValue] = [:]
        for entry in entries { values[entry.key] = SessionValue(json: FlaskJSON.plainBytes(entry.value)) }
        let context = SessionCodecContext(cookieName: cookieName, now: timestamp, lifetime: maxAge)
        print(try codec.encode(SessionData(values: values), context: context))
    }
}
