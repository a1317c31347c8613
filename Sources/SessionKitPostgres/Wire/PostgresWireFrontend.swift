import NIOCore

/// The messages SessionKit's own PostgreSQL connections send (protocol 3.0, the frontend side),
/// written straight into a `ByteBuffer`: a type byte, the length (itself included) as a big-endian
/// Int32, the body. Only what the request path needs: start-up, authentication, the extended
/// query protocol's Parse, Bind, Execute and Sync, and Terminate.
///
/// ```swift
/// var buffer = ByteBuffer()
/// PostgresWireFrontend.writeBind(into: &buffer, statement: "s1", parameters: bindings)
/// PostgresWireFrontend.writeExecuteAndSync(into: &buffer)
/// ```
enum PostgresWireFrontend {
    /// The protocol version 3.0 in a startup message.
    static let protocolVersion: Int32 = 196_608
    /// The code of an `SSLRequest` (1234 << 16 | 5679).
    static let sslRequestCode: Int32 = 80_877_103

    /// `SSLRequest`: asks the server whether it will speak TLS (it answers one byte, `S` or `N`).
    static func writeSSLRequest(into buffer: inout ByteBuffer) {
        buffer.writeInteger(Int32(8))
        buffer.writeInteger(sslRequestCode)
    }

    /// `StartupMessage`: the protocol version and the parameters (`user`, `database`, options).
    static func writeStartup(into buffer: inout ByteBuffer, parameters: [(String, String)]) {
        let start = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        buffer.writeInteger(protocolVersion)
        for (name, value) in parameters {
            writeCString(name, into: &buffer)
            writeCString(value, into: &buffer)
        }
        buffer.writeInteger(UInt8(0))
        buffer.setInteger(Int32(buffer.writerIndex - start), at: start)
    }

    /// `PasswordMessage` (`p`): a password, cleartext or MD5-hashed, as a C string.
    static func writePassword(into buffer: inout ByteBuffer, _ password: String) {
        writeMessage(UInt8(ascii: "p"), into: &buffer) { buffer in writeCString(password, into: &buffer) }
    }

    /// `SASLInitialResponse` (`p`): the mechanism chosen and the client's first message.
    static func writeSASLInitialResponse(into buffer: inout ByteBuffer, mechanism: String, data: [UInt8]) {
        writeMessage(UInt8(ascii: "p"), into: &buffer) { buffer in
            writeCString(mechanism, into: &buffer)
            buffer.writeInteger(Int32(data.count))
            buffer.writeBytes(data)
        }
    }

    /// `SASLResponse` (`p`): the client's next message.
    static func writeSASLResponse(into buffer: inout ByteBuffer, data: [UInt8]) {
        writeMessage(UInt8(ascii: "p"), into: &buffer) { buffer in buffer.writeBytes(data) }
    }

    /// `Parse` (`P`): names `sql` as `statement` (empty: the unnamed statement) with the parameters'
    /// type OIDs.
    static func writeParse(into buffer: inout ByteBuffer, statement: String, sql: String, parameterTypes: [Int32]) {
        writeMessage(UInt8(ascii: "P"), into: &buffer) { buffer in
            writeCString(statement, into: &buffer)
            writeCString(sql, into: &buffer)
            buffer.writeInteger(Int16(parameterTypes.count))
            for type in parameterTypes { buffer.writeInteger(type) }
        }
    }

    /// `Bind` (`B`) to the unnamed portal: every parameter and every result column in binary.
    static func writeBind(into buffer: inout ByteBuffer, statement: String, parameters: PostgresWireBindings) {
        writeMessage(UInt8(ascii: "B"), into: &buffer) { buffer in
            buffer.writeInteger(UInt8(0))   // the unnamed portal
            buffer.writeString(statement)
            // The statement name's NUL; one format code for all parameters, binary; the parameter count.
            let count = Int16(parameters.count)
            buffer.writePostgresWireFields(count: 7) { bytes in
                bytes.storeBytes(of: UInt8(0), toByteOffset: 0, as: UInt8.self)
                bytes.storeBytes(of: Int16(1).bigEndian, toByteOffset: 1, as: Int16.self)
                bytes.storeBytes(of: Int16(1).bigEndian, toByteOffset: 3, as: Int16.self)
                bytes.storeBytes(of: count.bigEndian, toByteOffset: 5, as: Int16.self)
            }
            var values = parameters.values
            buffer.writeBuffer(&values)
            // One format code for all result columns: binary.
            buffer.writePostgresWireFields(count: 4) { bytes in
                bytes.storeBytes(of: Int16(1).bigEndian, toByteOffset: 0, as: Int16.self)
                bytes.storeBytes(of: Int16(1).bigEndian, toByteOffset: 2, as: Int16.self)
            }
        }
    }

    /// `Execute` (`E`, the unnamed portal, every row) and `Sync` (`S`): the statement runs as its
    /// own transaction, and the server answers up to `ReadyForQuery` whatever happens.
    static func writeExecuteAndSync(into buffer: inout ByteBuffer) {
        // E, length 9, "" (the unnamed portal), 0 (no row limit); S, length 4.
        buffer.writePostgresWireFields(count: 15) { bytes in
            bytes.storeBytes(of: UInt8(ascii: "E"), toByteOffset: 0, as: UInt8.self)
            bytes.storeBytes(of: Int32(9).bigEndian, toByteOffset: 1, as: Int32.self)
            bytes.storeBytes(of: UInt8(0), toByteOffset: 5, as: UInt8.self)
            bytes.storeBytes(of: Int32(0), toByteOffset: 6, as: Int32.self)
            bytes.storeBytes(of: UInt8(ascii: "S"), toByteOffset: 10, as: UInt8.self)
            bytes.storeBytes(of: Int32(4).bigEndian, toByteOffset: 11, as: Int32.self)
        }
    }

    /// `Terminate` (`X`): the polite end of a connection.
    static func writeTerminate(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "X"))
        buffer.writeInteger(Int32(4))
    }

    private static func writeMessage(_ type: UInt8, into buffer: inout ByteBuffer, _ body: (inout ByteBuffer) -> Void) {
        // The type and a length to be set at the end, in one write.
        let lengthIndex = buffer.writerIndex + 1
        buffer.writePostgresWireFields(count: 5) { bytes in
            bytes.storeBytes(of: type, toByteOffset: 0, as: UInt8.self)
            bytes.storeBytes(of: Int32(0), toByteOffset: 1, as: Int32.self)
        }
        body(&buffer)
        buffer.setInteger(Int32(buffer.writerIndex - lengthIndex), at: lengthIndex)
    }

    /// `text` and a NUL. A NUL inside `text` would end the string early and shift every field after
    /// it: callers pass only names, SQL and values that cannot hold one (``PostgresWireConnection``
    /// checks the start-up values and the password).
    private static func writeCString(_ text: String, into buffer: inout ByteBuffer) {
        buffer.writeString(text)
        buffer.writeInteger(UInt8(0))
    }
}
