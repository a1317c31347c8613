/// The base64 variants Flask's cookie uses besides strict base64url: the standard alphabet with
/// padding inside the `" b"` tag, and Python's lenient decoders (`base64.b64decode`, and
/// itsdangerous' `base64_decode`, which Flask applies to every cookie field).
///
/// ```swift
/// FlaskBase64.encodeStandard([0x68, 0x69])                   // "aGk="
/// FlaskBase64.decodePython(Array("aGk=".utf8))              // [0x68, 0x69]
/// FlaskBase64.decodeItsdangerous(Array("xewjHM3z".utf8))    // 6 bytes
/// ```
enum FlaskBase64 {
    private static let standardAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard alphabet (`+/`) plus `-_` mapped to 62 and 63 (itsdangerous translates those before
    /// decoding); 0xff for anything else.
    private static let lenientTable: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (index, byte) in standardAlphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    private static let standardTable: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (index, byte) in standardAlphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// `base64.b64encode`: the standard alphabet with `=` padding.
    static func encodeStandard(_ bytes: [UInt8], into output: inout [UInt8]) {
        var index = 0
        let full = bytes.count - bytes.count % 3
        while index < full {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(standardAlphabet[Int(value >> 18)])
            output.append(standardAlphabet[Int((value >> 12) & 0x3f)])
            output.append(standardAlphabet[Int((value >> 6) & 0x3f)])
            output.append(standardAlphabet[Int(value & 0x3f)])
            index += 3
        }
        switch bytes.count - full {
        case 1:
            let value = UInt32(bytes[index]) << 16
            output.append(standardAlphabet[Int(value >> 18)])
            output.append(standardAlphabet[Int((value >> 12) & 0x3f)])
            output.append(UInt8(ascii: "="))
            output.append(UInt8(ascii: "="))
        case 2:
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            output.append(standardAlphabet[Int(value >> 18)])
            output.append(standardAlphabet[Int((value >> 12) & 0x3f)])
            output.append(standardAlphabet[Int((value >> 6) & 0x3f)])
            output.append(UInt8(ascii: "="))
        default:
            break
        }
    }

    static func encodeStandard(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        encodeStandard(bytes, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Python's `base64.b64decode(s)` (`binascii.a2b_base64` in non-strict mode) on ASCII input:
    /// characters outside the standard alphabet are skipped, a complete pad sequence ends the input,
    /// and a dangling 1-3 characters is an error (`nil`).
    static func decodePython(_ text: some Sequence<UInt8>) -> [UInt8]? {
        var decoder = A2BBase64(table: standardTable)
        for byte in text where decoder.feed(byte) { return decoder.output }
        return decoder.finish()
    }

    /// itsdangerous' `base64_decode` on the bytes of a cookie field: pads with `=` to a multiple of
    /// 4 (the count includes any junk bytes), maps `-_` to `+/` and runs the non-strict decoder, which
    /// skips everything outside the alphabet.
    static func decodeItsdangerous(_ text: some Sequence<UInt8>) -> [UInt8]? {
        var decoder = A2BBase64(table: lenientTable)
        var count = 0
        for byte in text {
            count += 1
            if decoder.feed(byte) { return decoder.output }
        }
        for _ in 0..<((4 - count % 4) % 4) where decoder.feed(UInt8(ascii: "=")) { return decoder.output }
        return decoder.finish()
    }

    /// CPython's `binascii.a2b_base64` with `strict_mode=False`, one byte at a time.
    private struct A2BBase64 {
        let table: [UInt8]
        var output: [UInt8] = []
        var quadPosition = 0
        var pads = 0
        var left: UInt8 = 0

        init(table: [UInt8]) {
            self.table = table
        }

        /// Feeds one byte; true when a pad sequence ended the input.
        mutating func feed(_ byte: UInt8) -> Bool {
            if byte == UInt8(ascii: "=") {
                if quadPosition >= 2 {
                    pads += 1
                    if quadPosition + pads >= 4 { return true }
                }
                return false
            }
            let value = table[Int(byte)]
            if value >= 64 { return false }
            pads = 0
            switch quadPosition {
            case 0:
                quadPosition = 1
                left = value
            case 1:
                quadPosition = 2
                output.append(left << 2 | value >> 4)
                left = value & 0x0f
            case 2:
                quadPosition = 3
                output.append(left << 4 | value >> 2)
                left = value & 0x03
            default:
                quadPosition = 0
                output.append(left << 6 | value)
                left = 0
            }
            return false
        }

        func finish() -> [UInt8]? {
            quadPosition == 0 ? output : nil
        }
    }
}
