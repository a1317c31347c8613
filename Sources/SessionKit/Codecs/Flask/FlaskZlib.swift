import CZlib

/// zlib (RFC 1950) as Python's `zlib.compress` / `zlib.decompress` use it, through the system libz.
///
/// ```swift
/// let packed = FlaskZlib.compress(Array(#"{"k":"aaaaaaaaaaaa"}"#.utf8))   // 78 9c ab 56 ...
/// let json = FlaskZlib.decompress(packed!, limit: 65_536)
/// ```
enum FlaskZlib {
    /// `zlib.compress(data)`: level 6 (`Z_DEFAULT_COMPRESSION`), window 15, memory level 8.
    /// `nil` only if libz fails, which it does not for in-memory input.
    static func compress(_ input: [UInt8]) -> [UInt8]? {
        var bound = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(bound))
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { source in
                compress2(out.baseAddress, &bound, source.baseAddress, uLong(source.count), Z_DEFAULT_COMPRESSION)
            }
        }
        guard status == Z_OK else { return nil }
        output.removeSubrange(Int(bound)...)
        return output
    }

    /// `zlib.decompress(data)`: a zlib stream (header and Adler-32 checked); bytes after the end of
    /// the stream are ignored as Python does. `nil` for a broken or truncated stream, or when the
    /// output would exceed `limit` bytes.
    static func decompress(_ input: [UInt8], limit: Int) -> [UInt8]? {
        let limit = min(max(0, limit), Int.max - 1)
        var stream = z_stream()
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: min(max(input.count * 4, 256), limit + 1))
        var produced = 0
        return input.withUnsafeBufferPointer { source -> [UInt8]? in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = uInt(source.count)
            while true {
                if produced == output.count {
                    // One byte past the limit is room enough to notice an oversize stream.
                    if output.count > limit { return nil }
                    output.append(contentsOf: repeatElement(0, count: min(output.count, limit + 1 - output.count)))
                }
                let status = output.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = uInt(out.count - produced)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    produced = out.count - Int(stream.avail_out)
                    return status
                }
                switch status {
                case Z_STREAM_END:
                    guard produced <= limit else { return nil }
                    output.removeSubrange(produced...)
                    return output
                case Z_OK:
                    continue
                case Z_BUF_ERROR:
                    // No progress possible: out of input (truncated) unless the output is full.
                    if stream.avail_out != 0 { return nil }
                default:
                    return nil
                }
            }
        }
    }
}
