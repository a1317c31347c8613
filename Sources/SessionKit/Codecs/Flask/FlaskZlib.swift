import CZlib
import Synchronization

/// zlib (RFC 1950) as Python's `zlib.compress` / `zlib.decompress` use it, through the system libz.
///
/// Setting up a deflate stream costs more than compressing a cookie (zlib allocates about 256 KiB
/// for it), so streams are kept in a small pool and reset between uses; a reset stream writes the
/// same bytes as a fresh one.
///
/// ```swift
/// let packed = FlaskZlib.compress(Array(#"{"k":"aaaaaaaaaaaa"}"#.utf8))   // 78 9c ab 56 ...
/// let json = FlaskZlib.decompress(packed!, limit: 65_536)
/// ```
enum FlaskZlib {
    /// Streams kept for reuse: at most this many of each kind.
    private static let poolLimit = 8
    private static let deflatePool = Mutex<[ZlibStream]>([])
    private static let inflatePool = Mutex<[ZlibStream]>([])

    /// `zlib.compress(data)`: level 6 (`Z_DEFAULT_COMPRESSION`), window 15, memory level 8, default
    /// strategy (what `compress2` uses). `nil` only if libz fails.
    static func compress(_ input: [UInt8]) -> [UInt8]? {
        guard let stream = deflatePool.withLock({ $0.popLast() }) ?? ZlibStream(deflate: ()) else { return nil }
        defer {
            if deflateReset(stream.pointer) == Z_OK {
                deflatePool.withLock { pool in if pool.count < poolLimit { pool.append(stream) } }
            }
        }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream.pointer, uLong(input.count))))
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { source in
                stream.pointer.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.pointer.pointee.avail_in = uInt(source.count)
                stream.pointer.pointee.next_out = out.baseAddress
                stream.pointer.pointee.avail_out = uInt(out.count)
                return deflate(stream.pointer, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeSubrange(Int(stream.pointer.pointee.total_out)...)
        return output
    }

    /// `zlib.decompress(data)`: a zlib stream (header and Adler-32 checked); bytes after the end of
    /// the stream are ignored as Python does. `nil` for a broken or truncated stream, or when the
    /// output would exceed `limit` bytes.
    static func decompress(_ input: [UInt8], limit: Int) -> [UInt8]? {
        let limit = min(max(0, limit), Int.max - 1)
        guard let stream = inflatePool.withLock({ $0.popLast() }) ?? ZlibStream(inflate: ()) else { return nil }
        defer {
            if inflateReset(stream.pointer) == Z_OK {
                inflatePool.withLock { pool in if pool.count < poolLimit { pool.append(stream) } }
            }
        }
        var output = [UInt8](repeating: 0, count: min(max(input.count * 4, 256), limit + 1))
        var produced = 0
        return input.withUnsafeBufferPointer { source -> [UInt8]? in
            stream.pointer.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.pointer.pointee.avail_in = uInt(source.count)
            while true {
                if produced == output.count {
                    // One byte past the limit is room enough to notice an oversize stream.
                    if output.count > limit { return nil }
                    output.append(contentsOf: repeatElement(0, count: min(output.count, limit + 1 - output.count)))
                }
                let status = output.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.pointer.pointee.next_out = out.baseAddress! + produced
                    stream.pointer.pointee.avail_out = uInt(out.count - produced)
                    let status = inflate(stream.pointer, Z_NO_FLUSH)
                    produced = out.count - Int(stream.pointer.pointee.avail_out)
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
                    if stream.pointer.pointee.avail_out != 0 { return nil }
                default:
                    return nil
                }
            }
        }
    }
}

/// One zlib stream, used by one caller at a time (the pool hands it out under a lock).
private final class ZlibStream: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<z_stream>
    private let isDeflate: Bool

    /// A deflate stream with `compress2`'s parameters.
    init?(deflate: Void) {
        let pointer = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        pointer.initialize(to: z_stream())
        let status = deflateInit2_(pointer, Z_DEFAULT_COMPRESSION, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            pointer.deallocate()
            return nil
        }
        self.pointer = pointer
        self.isDeflate = true
    }

    /// An inflate stream for the zlib format (window 15, header required).
    init?(inflate: Void) {
        let pointer = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        pointer.initialize(to: z_stream())
        guard inflateInit_(pointer, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            pointer.deallocate()
            return nil
        }
        self.pointer = pointer
        self.isDeflate = false
    }

    deinit {
        if isDeflate { deflateEnd(pointer) } else { inflateEnd(pointer) }
        pointer.deallocate()
    }
}
