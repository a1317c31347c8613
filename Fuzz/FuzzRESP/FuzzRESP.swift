// libFuzzer target: the Redis client's RESP reply parser. The input is parsed whole, then again fed
// in pieces (split where the input's own bytes say); both must give the same replies and the same
// error, since a reply may arrive in any number of TCP reads. The parser's files are
// linked into Fuzz/FuzzRESPParser from Sources/SessionKitRedis.
import Foundation
import FuzzDriver
import FuzzRESPParser
import NIOCore

private func parseAll(_ bytes: ArraySlice<UInt8>, pieces: [Int]) -> (replies: [RESPValue], failed: Bool) {
    var parser = RESPParser(maximumBulkLength: 1 << 20, maximumArrayCount: 1 << 16, maximumDepth: 32, maximumLineLength: 4096)
    var buffer = ByteBuffer()
    var replies: [RESPValue] = []
    var offset = bytes.startIndex
    var cuts = pieces.makeIterator()
    while true {
        let next = min(bytes.endIndex, offset + (cuts.next() ?? bytes.count))
        buffer.writeBytes(bytes[offset..<next])
        offset = next
        do {
            while let reply = try parser.parse(&buffer) { replies.append(reply) }
        } catch {
            return (replies, true)
        }
        buffer.discardReadBytes()
        if offset == bytes.endIndex { return (replies, false) }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = parseAll(bytes[1...], pieces: [])
    // Piece lengths 1...8 from the low bits of the first byte, repeating.
    let step = Int(bytes[0] & 7) + 1
    let split = parseAll(bytes[1...], pieces: Array(repeating: step, count: size))
    precondition(whole.failed == split.failed, "parsing in pieces changes whether the input is an error")
    precondition(whole.replies == split.replies, "parsing in pieces changes the replies")
    return 0
}

@main
enum FuzzRESPMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzRESP(data!, size) })
    }
}
