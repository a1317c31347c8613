import Foundation
import Testing
@testable import SessionKit

@Suite("Flask JSON")
struct FlaskJSONTests {
    /// (IEEE bit pattern, Python 3.11 `repr`) pairs, generated with CPython, including 60 random values
    /// in 2^53 < |x| < 1e16 where Swift's `description` switches to exponent form.
    static let pythonReprs: [(String, String)] = [
        ("43409233b0ad4518", "9328700665006640.0"),
        ("434125e1321766a5", "9653447484689738.0"),
        ("4340f1efc05a5536", "9539223307987564.0"),
        ("43401a2f5ab92d43", "9064780630481542.0"),
        ("434010eda4d69fbe", "9044424972386172.0"),
        ("43401f89b20ec399", "9076551771326258.0"),
        ("4340bfa8bf3a47ff", "9428662222098430.0"),
        ("434037e4afb06fe3", "9130109934034886.0"),
        ("43411b44fc8af699", "9630115425545522.0"),
        ("4341048bf415b570", "9580147492219616.0"),
        ("4341b8c0d973f615", "9976426051136554.0"),
        ("43418393657efb09", "9859487380665874.0"),
        ("4340412099ebe42c", "9150415809005656.0"),
        ("43408b45789b14dd", "9313460239608250.0"),
        ("43405197da2dadb0", "9186624539417440.0"),
        ("43412073d7697be7", "9641513022846926.0"),
        ("4340f74ac81b7805", "9551000368508938.0"),
        ("43401ae889950828", "9066371340701776.0"),
        ("4341332ebc78511f", "9682700855190078.0"),
        ("43408dd4418e6a58", "9319084799612080.0"),
        ("4340cc99ca222e62", "9457121041341636.0"),
        ("434166a42bb49bc5", "9795859796014986.0"),
        ("43406e33fee61926", "9249538452501068.0"),
        ("4340ed1cc03e9b85", "9528614735132426.0"),
        ("4341495341e72220", "9731393081721920.0"),
        ("4341ba85e1ddcee9", "9980317573815762.0"),
        ("4340bcc578febace", "9422311903819164.0"),
        ("4340449df321e664", "9158089614019784.0"),
        ("434011b377387a01", "9046124248757250.0"),
        ("4341592ef950a2e7", "9766265780520398.0"),
        ("43418b414a4722d4", "9876374278784424.0"),
        ("434139e84de739d4", "9697489012552616.0"),
        ("434105ceacb28033", "9582919645724774.0"),
        ("43417b3923b6c3c3", "9841119893227398.0"),
        ("4340d60af78ef4bc", "9477884437457272.0"),
        ("43401b6400f0e3af", "9067431907673950.0"),
        ("434124295a5590f7", "9649669263794670.0"),
        ("43417313c7cc6bf8", "9823206795433968.0"),
        ("4340ae2cb3a5e52d", "9390213286316634.0"),
        ("43400a2fc2ad8d07", "9029599746529806.0"),
        ("43404bde906d5c01", "9174037810558978.0"),
        ("43401a9dc9acabbb", "9065729246189430.0"),
        ("43403a64c8775baa", "9135608323553108.0"),
        ("4340b080e1115fe8", "9395334411370448.0"),
        ("434024615cd5cb3f", "9087200430626430.0"),
        ("4340f80ebc7e7c8d", "9552683606014234.0"),
        ("434171e215ab0bfe", "9820580888319996.0"),
        ("43407db321d4323a", "9283615895086196.0"),
        ("4340a1f9c5f5f56c", "9363387535059672.0"),
        ("4341b063e88d28a5", "9958035507794250.0"),
        ("43404f8ec13f1291", "9182148346914082.0"),
        ("4340695855e19ab1", "9238855492515170.0"),
        ("434109f9417ab293", "9592081508295974.0"),
        ("434001d92096346f", "9011263387232478.0"),
        ("4340a6b54d00a6c5", "9373794477100426.0"),
        ("4341ae4c682f3799", "9953435585507122.0"),
        ("4340e8bb10dd3fe3", "9518979533668294.0"),
        ("434131495313f0c2", "9678531200541060.0"),
        ("4341961d85e6355b", "9900256297511606.0"),
        ("43418ad1cd18f628", "9875416595688528.0"),
        ("4340cbcfb23977f0", "9455385072300000.0"),
        ("4340c9ca3311bbec", "9450939809495000.0"),
        ("4340f68a0d40b250", "9549344831268000.0"),
        ("4340cd06d13064b0", "9458057580956000.0"),
        ("4340619787f7bb70", "9221806152972000.0"),
        ("4340e1999ab8c04c", "9503298938831000.0"),
        ("4340384894c65870", "9130968024396000.0"),
        ("43413392ab86dfd0", "9683559280132000.0"),
        ("4340346b06bacb14", "9122467812841000.0"),
        ("434122310007a4e0", "9645336906648000.0"),
        ("000000000000009b", "7.66e-322"),
        ("00000000001092b1", "5.36619e-318"),
        ("00d0a8cbf2aa861f", "9.489487585694336e-305"),
        ("03787f9932e4a897", "6.13737262975431e-292"),
        ("05f9870735f1529d", "7.031557615348971e-280"),
        ("08c5750364818af4", "2.079526827787532e-266"),
        ("0b861118b6392064", "3.7622936180644096e-253"),
        ("0e4526b90ca6f682", "6.344095785339009e-240"),
        ("11021b911d70caa3", "9.554680239214712e-227"),
        ("13a9f3ecd62fe2b3", "6.022791889620082e-214"),
        ("16573a668644aec9", "4.7415146323175895e-201"),
        ("18e9b2ab6a50ec81", "1.1535351610881773e-188"),
        ("1bbee71e0277d48d", "4.8806805903541085e-175"),
        ("1e8198b884dad077", "9.778230001478602e-162"),
        ("2123a8110f02a7a1", "4.803951046156485e-149"),
        ("23cd03670ee9512a", "3.1185231421801942e-136"),
        ("266e7c7efcd3dccd", "1.4411749021848742e-123"),
        ("29468944d2ab5ebf", "7.496739204424309e-110"),
        ("2bf94d55c324a203", "7.40351224428094e-97"),
        ("2ea29898a5c1fc3b", "4.786219435099913e-84"),
        ("315e91a77a777add", "6.920567688453093e-71"),
        ("3409edbd9bad1086", "5.163345189623215e-58"),
        ("36a76e70fd5c709b", "2.0521500670154067e-45"),
        ("397ee514a1faf8a0", "9.520209471006497e-32"),
        ("3c1ab14f8d5133da", "3.6175245900901055e-19"),
        ("3edcf18b562911cd", "6.900675858793589e-06"),
        ("4195cb80c91dd6bc", "91414578.27913946"),
        ("44448cac6e713372", "7.581429595359373e+20"),
        ("46e25f06abd20a80", "2.9808969034627993e+33"),
        ("49a685e13a33c8b5", "6.429170806953686e+46"),
        ("4c2cff65068a7871", "9.101055336145147e+58"),
        ("4f1323e7c4516aa4", "8.45447594382727e+72"),
        ("51baaf4d87a9b8a7", "5.1839685713276105e+85"),
        ("547a9379e0265321", "9.0825854366304e+98"),
        ("5717aa28f76cc1a2", "3.556961698229455e+111"),
        ("59c0d9ed58525c90", "2.227927560552387e+124"),
        ("5c8748cba48e8179", "5.415671227801955e+137"),
        ("5f389241f0843386", "5.026970232253148e+150"),
        ("61f1aee6e5ecdfd8", "6.364419253397112e+163"),
        ("64a35ec70e68e1fb", "6.13228222813541e+176"),
        ("675c4fd84a0c9b9e", "7.883992641041134e+189"),
        ("6a0ef58070d66a1b", "7.5832242408863305e+202"),
        ("6ca21d6182e28fe5", "1.951460302328958e+215"),
        ("6f5943547a38286d", "2.3938767476627933e+228"),
        ("7218094497e75d54", "4.006843696525172e+241"),
        ("74db648abf89dc00", "8.033260645474455e+254"),
        ("776f0012b2ec80b9", "1.9991798339514964e+267"),
        ("7a35b7cb37da0580", "4.927818429139446e+280"),
        ("7cf2502d1d9842ba", "7.310039924754213e+293"),
        ("7fac2f520c6549e5", "9.896035867030701e+306"),
        ("0000000000000000", "0.0"),
        ("8000000000000000", "-0.0"),
        ("3ff0000000000000", "1.0"),
        ("bff0000000000000", "-1.0"),
        ("3fb999999999999a", "0.1"),
        ("4341c37937e08000", "1e+16"),
        ("430c6bf526340000", "1000000000000000.0"),
        ("4341c37937e07fff", "9999999999999998.0"),
        ("3f1a36e2eb1c432d", "0.0001"),
        ("3ee4f8b588e368f1", "1e-05"),
        ("3f202e4b6ce5dc68", "0.00012345"),
        ("0000000000000001", "5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("0010000000000000", "2.2250738585072014e-308"),
        ("419d6f3454800000", "123456789.125"),
        ("4480f0cf064dd592", "1e+22"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("4340000000000000", "9007199254740992.0"),
        ("4340000000000001", "9007199254740994.0"),
        ("c34077f9738c2180", "-9271025792992000.0"),
        ("434077f9738c2180", "9271025792992000.0"),
    ]

    @Test func floatReprMatchesPython() throws {
        for (bits, repr) in Self.pythonReprs {
            let value = Double(bitPattern: UInt64(bits, radix: 16)!)
            #expect(FlaskJSON.pythonRepr(value) == repr, "\(bits)")
            #expect(String(decoding: FlaskJSON.taggedBytes(.double(value)), as: UTF8.self) == repr)
            // And the reader reads the repr back to the same double.
            #expect(try FlaskJSON.parse(Array(repr.utf8)) == .double(value), "\(repr)")
        }
    }

    @Test func floatSpecialTokens() throws {
        #expect(String(decoding: FlaskJSON.taggedBytes(.list([.double(.nan), .double(.infinity), .double(-.infinity), .double(-0.0)])), as: UTF8.self)
            == "[NaN,Infinity,-Infinity,-0.0]")
        #expect(String(decoding: FlaskJSON.plainBytes(.list([.double(.nan), .double(.infinity), .double(-.infinity)])), as: UTF8.self)
            == #"["NaN","Infinity","-Infinity"]"#)
        guard case .list(let items) = try FlaskJSON.parse(Array("[NaN, Infinity,-Infinity,1e400,-1e400,1E-400]".utf8)) else {
            Issue.record("not a list")
            return
        }
        guard case .double(let nan) = items[0] else { Issue.record("NaN"); return }
        #expect(nan.isNaN)
        #expect(Array(items[1...]) == [.double(.infinity), .double(-.infinity), .double(.infinity), .double(-.infinity), .double(0)])
    }

    @Test func stringEscapesMatchPython() throws {
        let string = "q\" b\\ n\n t\t c\u{01} d\u{7f} / <script>& \u{00}\u{1f} \u{e9} \u{2028} \u{d7ff} \u{e000} \u{ffff} \u{1F600} \u{10FFFF} e\u{301}"
        // json.dumps(s, ensure_ascii=True) from CPython 3.11.
        let python = #""q\" b\\ n\n t\t c\u0001 d\u007f / <script>& \u0000\u001f \u00e9 \u2028 \ud7ff \ue000 \uffff \ud83d\ude00 \udbff\udfff e\u0301""#
        #expect(String(decoding: FlaskJSON.taggedBytes(.string(string)), as: UTF8.self) == python)
        #expect(try FlaskJSON.parse(Array(python.utf8)) == .string(string))
        // Control characters as \b and \f.
        #expect(String(decoding: FlaskJSON.taggedBytes(.string("\u{08}\u{0c}\r")), as: UTF8.self) == #""\b\f\r""#)
    }

    @Test func keysSortByCodePoint() {
        // U+FF5E sorts before U+1F600 (UTF-16 order would say the opposite); "e\u{301}" and "\u{e9}"
        // are distinct keys although Swift's String == calls them equal.
        let value: FlaskValue = .dict([
            FlaskDictEntry("\u{1F600}", .int(1)), FlaskDictEntry("\u{FF5E}", .int(2)), FlaskDictEntry("\u{e9}", .int(3)),
            FlaskDictEntry("e\u{301}", .int(4)), FlaskDictEntry("b", .int(5)), FlaskDictEntry("B", .int(6)), FlaskDictEntry("10", .int(7)),
            FlaskDictEntry("9", .int(8)),
        ])
        #expect(String(decoding: FlaskJSON.taggedBytes(value), as: UTF8.self)
            == #"{"10":7,"9":8,"B":6,"b":5,"e\u0301":4,"\u00e9":3,"\uff5e":2,"\ud83d\ude00":1}"#)
    }

    @Test func duplicateEntriesWriteTheLast() {
        let value: FlaskValue = .dict([FlaskDictEntry("b", .int(1)), FlaskDictEntry("a", .int(2)), FlaskDictEntry("b", .int(3))])
        #expect(String(decoding: FlaskJSON.taggedBytes(value), as: UTF8.self) == #"{"a":2,"b":3}"#)
    }

    @Test func integers() throws {
        #expect(String(decoding: FlaskJSON.taggedBytes(.list([.int(Int.min), .int(0), .bigInt("1180591620717411303424"), .bigInt("-99999999999999999999")])), as: UTF8.self)
            == "[-9223372036854775808,0,1180591620717411303424,-99999999999999999999]")
        #expect(try FlaskJSON.parse(Array("[9223372036854775807,-9223372036854775808,9223372036854775808,-0]".utf8))
            == .list([.int(Int.max), .int(Int.min), .bigInt("9223372036854775808"), .int(0)]))
        // Python refuses integers over 4300 digits.
        #expect(throws: FlaskJSONError.self) { try FlaskJSON.parse(Array(String(repeating: "7", count: 4301).utf8)) }
        #expect(try FlaskJSON.parse(Array(String(repeating: "7", count: 4300).utf8)) == .bigInt(String(repeating: "7", count: 4300)))
    }

    @Test func taggedRoundTrip() throws {
        let value: FlaskValue = .dict([
            FlaskDictEntry("t", .tuple([.int(1), .string("x")])),
            FlaskDictEntry("b", .bytes([0, 255, 1])),
            FlaskDictEntry("m", .markup("<b>hi</b>")),
            FlaskDictEntry("u", .uuid(UUID(uuidString: "12345678-9abc-def0-1234-56789abcdef0")!)),
            FlaskDictEntry("d", .datetime(1_704_164_645)),
            FlaskDictEntry("w", .dict([FlaskDictEntry(" t", .list([.int(1)]))])),
            FlaskDictEntry("x", .dict([FlaskDictEntry(" di", .dict([FlaskDictEntry("a__", .int(1))]))])),
        ])
        let json = String(decoding: FlaskJSON.taggedBytes(value), as: UTF8.self)
        #expect(json == #"{"b":{" b":"AP8B"},"d":{" d":"Tue, 02 Jan 2024 03:04:05 GMT"},"m":{" m":"<b>hi</b>"},"#
            + #""t":{" t":[1,"x"]},"u":{" u":"123456789abcdef0123456789abcdef0"},"w":{" di":{" t__":[1]}},"#
            + #""x":{" di":{" di__":{"a__":1}}}}"#)
        #expect(sortedDeep(try FlaskJSON.parseTagged(Array(json.utf8))) == sortedDeep(value))
        // Plain JSON for Codable readers.
        #expect(String(decoding: FlaskJSON.plainBytes(value), as: UTF8.self)
            == #"{"b":"AP8B","d":1704164645,"m":"<b>hi</b>","t":[1,"x"],"u":"12345678-9abc-def0-1234-56789abcdef0","#
            + #""w":{" t":[1]},"x":{" di":{"a__":1}}}"#)
    }

    @Test func readerAcceptsWhatPythonAccepts() throws {
        let text = " {\"b\" : [ 1 , 2.5e1 ,\n true,false , null ], \"a\":\"h\u{e9}\u{1F600}\\u00e9\\/\", \"b\" :3}\r\n\t"
        #expect(try FlaskJSON.parse(Array(text.utf8))
            == .dict([FlaskDictEntry("b", .int(3)), FlaskDictEntry("a", .string("h\u{e9}\u{1F600}\u{e9}/"))]))
        // A lone surrogate escape becomes U+FFFD; a pair joins.
        #expect(try FlaskJSON.parse(Array(#"["\ud800","\udc00x","\ud83d\ude00","\ud800\u0041"]"#.utf8))
            == .list([.string("\u{FFFD}"), .string("\u{FFFD}x"), .string("\u{1F600}"), .string("\u{FFFD}A")]))
        #expect(try FlaskJSON.parse(Array("\"\u{7f}\"".utf8)) == .string("\u{7f}"))
    }

    @Test(arguments: [
        "", " ", "[1,]", "{\"a\":1,}", "{'a':1}", "[01]", "[1.]", "[.5]", "[1e]", "[+1]", "[-]", "nul", "True",
        "\"a\u{01}b\"", "\"\t\"", "\"\\x\"", "\"\\u12\"", "\"\\ud800\\u12x4\"", "\"abc", "[1 2]", "{\"a\" 1}", "{1:2}",
        "[1]x", "\u{feff}[1]", "[-Infinity1]", "[NaN,nan]", "[Infinity,-infinity]", "[1,,2]", "{\"a\":}",
    ])
    func readerRejects(_ text: String) {
        #expect(throws: FlaskJSONError.self) { try FlaskJSON.parse(Array(text.utf8)) }
    }

    @Test func readerRejectsInvalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xff, 0x22], [0x22, 0xc0, 0x80, 0x22], [0x22, 0xed, 0xa0, 0x80, 0x22], [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xe2, 0x82, 0x22]] {
            #expect(throws: FlaskJSONError.self) { try FlaskJSON.parse(bytes) }
        }
    }

    @Test func nestingIsLimited() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        _ = try FlaskJSON.parse(Array(ok.utf8))
        let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect(throws: FlaskJSONError.self) { try FlaskJSON.parse(Array(deep.utf8)) }
        let hostile = String(repeating: "{\"a\":[", count: 100_000)
        #expect(throws: FlaskJSONError.self) { try FlaskJSON.parse(Array(hostile.utf8)) }
    }
}

@Suite("Flask JSON integer keys")
struct FlaskIntegerKeyTests {
    @Test func integerKeysSortNumericallyLikePython() {
        let value = FlaskValue.dict([
            FlaskDictEntry(integerKey: "10", .int(1)),
            FlaskDictEntry(integerKey: "-3", .int(2)),
            FlaskDictEntry(integerKey: "2", .int(3)),
            FlaskDictEntry(integerKey: "-20", .int(4)),
            FlaskDictEntry(integerKey: "18446744073709551617", .int(5)),
        ])
        #expect(String(decoding: FlaskJSON.taggedBytes(value), as: UTF8.self) == #"{"-20":4,"-3":2,"2":3,"10":1,"18446744073709551617":5}"#)
        // String keys of the same text sort as strings.
        let strings = FlaskValue.dict([FlaskDictEntry("10", .int(1)), FlaskDictEntry("2", .int(3))])
        #expect(String(decoding: FlaskJSON.taggedBytes(strings), as: UTF8.self) == #"{"10":1,"2":3}"#)
    }
}
