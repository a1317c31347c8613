import Foundation

/// Secret key material for signing or encrypting session cookies (Flask's `SECRET_KEY`).
///
/// Its bytes never appear in `description`, `debugDescription`, `dump` or a `Mirror`: all of them
/// show only the length.
///
/// ```swift
/// let secret = try SessionSecret.environment("SESSIONKIT_SECRET")
/// let fixed = SessionSecret(text: "a long random string from `sessionkit secret`")
/// ```
public struct SessionSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The raw key bytes.
    public let bytes: [UInt8]

    /// A secret from raw bytes (Flask allows `bytes` keys).
    public init(bytes: some Sequence<UInt8>) {
        self.bytes = Array(bytes)
    }

    /// A secret from text: its UTF-8 bytes, as Flask uses a `str` SECRET_KEY.
    public init(text: String) {
        self.bytes = Array(text.utf8)
    }

    /// A secret from hexadecimal text (`nil` if it is not hex).
    public init?(hex: String) {
        var bytes: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next() {
            guard let low = iterator.next(), let h = Self.nibble(high), let l = Self.nibble(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        self.bytes = bytes
    }

    /// The secret in environment variable `name`; throws a configuration error with a hint when it
    /// is unset or empty.
    public static func environment(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SessionSecret {
        guard let text = environment[name], !text.isEmpty else {
            throw SessionError(.configuration, "the environment variable \(name) is not set; \(Self.hint)")
        }
        return SessionSecret(text: text)
    }

    /// A new random secret: 32 bytes from the system's CSPRNG, written as 43 base64url characters.
    public static func generateText() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Base64URL.encode(bytes)
    }

    /// Throws unless the secret has at least `minimumLength` bytes.
    public func validate(minimumLength: Int = 32) throws {
        guard bytes.count >= minimumLength else {
            throw SessionError(.configuration, "the session secret is \(bytes.count) bytes; at least \(minimumLength) are needed. \(Self.hint)")
        }
    }

    static let hint = "make one with `swift run sessionkit secret` and set SESSIONKIT_SECRET to it"

    public var description: String { "SessionSecret(\(bytes.count) bytes, redacted)" }
    public var debugDescription: String { description }
    /// The length only: `dump` never shows the bytes.
    public var customMirror: Mirror { Mirror(self, children: ["byteCount": bytes.count], displayStyle: .struct) }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
