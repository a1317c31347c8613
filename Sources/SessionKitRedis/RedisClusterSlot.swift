/// The hash slot of a key in Redis Cluster: CRC16 (XMODEM) of the key, or of its hash tag, modulo
/// 16384. The hash tag is what lies between the first `{` and the first `}` after it, when that is
/// not empty; keys with the same tag share a slot, which is how ``RedisSessionStore`` keeps every
/// key of one prefix (`{prefix}:s:...`, `{prefix}:u:...`, `{prefix}:expiry`) on one node.
///
/// ```swift
/// RedisClusterSlot.of("123456789")            // 12739
/// RedisClusterSlot.of("{sessionkit}:expiry")  // 12625, as RedisClusterSlot.of("sessionkit")
/// ```
package enum RedisClusterSlot {
    /// How many slots a cluster has.
    package static let count = 16384

    /// The slot of `key`.
    package static func of(_ key: String) -> Int {
        of(bytes: Array(key.utf8))
    }

    /// The slot of a key given as bytes.
    package static func of(bytes key: [UInt8]) -> Int {
        var hashed = key[...]
        if let open = key.firstIndex(of: UInt8(ascii: "{")),
            let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        {
            hashed = key[(open + 1)..<close]
        }
        return Int(crc16(hashed) & 0x3FFF)
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection; what Redis uses.
    package static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
