/// Flask's JSON text: the exact bytes Flask's session serializer writes
/// (`json.dumps(tagged, sort_keys=True, ensure_ascii=True, separators=(",", ":"))` after
/// `TaggedJSONSerializer.tag`), a plain form for `Codable`, and a reader for what Flask accepts.
///
/// ```swift
/// let session: FlaskValue = .dict([FlaskDictEntry("_flashes", .list([.tuple([.string("message"), .string("Hi")])]))])
/// FlaskJSON.taggedBytes(session)   // {"_flashes":[{" t":["message","Hi"]}]}
/// FlaskJSON.plainBytes(session)    // {"_flashes":[["message","Hi"]]}
/// let back = try FlaskJSON.parseTagged(FlaskJSON.taggedBytes(session))   // == session
/// ```
///
/// Plain JSON (what a Swift `Codable` decode of a Flask value reads): a tuple is an array, bytes a
/// standard base64 string with padding (`JSONDecoder`'s `Data` form), Markup its string, a UUID its
/// lowercase dashed string (`UUID(uuidString:)` reads it), a datetime its Unix seconds
/// (`.secondsSince1970`), and NaN/±infinity the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
public enum FlaskJSON {
    /// The plain JSON text of `value` (no tags). Object keys are sorted by code point.
    public static func plainBytes(_ value: FlaskValue) -> [UInt8] {
        var writer = FlaskJSONWriter(tagged: false)
        writer.write(value)
        return writer.output
    }

    /// The tagged JSON text Flask writes for `value`. A `.bigInt` that is not a decimal integer is
    /// written as `null`.
    public static func taggedBytes(_ value: FlaskValue) -> [UInt8] {
        var writer = FlaskJSONWriter(tagged: true)
        writer.write(value)
        return writer.output
    }

    /// Parses JSON text (no untagging) into a ``FlaskValue``, as Python's `json.loads` reads it.
    public static func parse(_ bytes: some Collection<UInt8>) throws(FlaskJSONError) -> FlaskValue {
        try FlaskJSONReader.parse(bytes)
    }

    /// Parses tagged JSON text and untags it as Flask's `TaggedJSONSerializer.loads` does.
    public static func parseTagged(_ bytes: some Collection<UInt8>) throws(FlaskJSONError) -> FlaskValue {
        try FlaskTag.untagScan(FlaskJSONReader.parse(bytes))
    }

    /// Python's `repr(float)`, e.g. `1e-05`, `1000000000000000.0`, `-0.0` (`nan`, `inf`, `-inf` for
    /// the non-finite values).
    public static func pythonRepr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        var output: [UInt8] = []
        FlaskJSONWriter.appendPythonRepr(value, into: &output)
        return String(decoding: output, as: UTF8.self)
    }
}
