import JSON
import XCTest

/// The merged parser: what both its users rely on (ordered keys, literal numbers, strict strings,
/// positions in errors) and the two duplicate-key rules.
final class JSONValueTests: XCTestCase {
    private func parseError(_ text: String, _ options: JSONParseOptions = .init(),
                            file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        do {
            let v = try JSONValue.parse(text, options: options)
            XCTFail("parsed \(v) from \(text.debugDescription)", file: file, line: line)
            return nil
        } catch let e as JSONParseError {
            return e
        } catch {
            XCTFail("not a JSONParseError: \(error)", file: file, line: line)
            return nil
        }
    }

    func testKeysKeepFileOrder() throws {
        let v = try JSONValue.parse(#"{"z": 1, "a": 2, "m": {"y": null, "b": true}}"#)
        XCTAssertEqual(v.objectValue?.map(\.0), ["z", "a", "m"])
        XCTAssertEqual(v["m"]?.objectValue?.map(\.0), ["y", "b"])
        XCTAssertEqual(v["m"]?["b"]?.boolValue, true)
        XCTAssertEqual(v["m"]?["y"]?.isNull, true)
        XCTAssertNil(v["missing"])
    }

    func testNumbersKeepTheirLiteralText() throws {
        let v = try JSONValue.parse(#"[1.50, -0, 1E+3, 2e-7, 12345678901234567890, 0.0, 7]"#)
        XCTAssertEqual(v.arrayValue, ["1.50", "-0", "1E+3", "2e-7", "12345678901234567890", "0.0", "7"].map { JSONValue.number($0) })
        XCTAssertEqual(v.pythonJSON(), "[1.50, -0, 1E+3, 2e-7, 12345678901234567890, 0.0, 7]")
        // Shapes and offsets are plain digits; 1.0, -1 and 1e3 are not.
        XCTAssertEqual(v.arrayValue!.map(\.nonNegativeInt), [nil, nil, nil, nil, nil, nil, 7])
        XCTAssertEqual(JSONValue.number("-3").intValue, -3)
        for bad in ["01", "-", "1.", ".5", "1e", "1e+", "+1", "-01"] {
            XCTAssertNotNil(parseError(bad), bad)
        }
        XCTAssertEqual(parseError("[1, 02]")?.reason, "invalid number (leading zero)")
    }

    func testDuplicateKeysRejectedWhenStrict() {
        let e = parseError("{\"a\": 1,\n \"a\": 2}", .strict)
        XCTAssertEqual(e?.reason, "duplicate key \"a\"")
        XCTAssertEqual(e.map { [$0.line, $0.column, $0.offset] }, [2, 2, 10], "the position of the second key")
        // Past 16 members the parser looks keys up in a table; the rule must not change there.
        let many = (0..<40).map { "\"k\($0)\": \($0)" }.joined(separator: ", ")
        XCTAssertEqual(parseError("{\(many), \"k3\": 0}", .strict)?.reason, "duplicate key \"k3\"")
        XCTAssertNoThrow(try JSONValue.parse("{\(many)}", options: .strict))
        // Keys are compared by their bytes, as Python does: canonically equivalent spellings are two keys.
        let accents = "\"\u{E9}\": 1, \"e\u{301}\": 2"
        XCTAssertEqual(try JSONValue.parse("{\(accents)}", options: .strict).objectValue?.count, 2)
        XCTAssertEqual(try JSONValue.parse("{\(many), \(accents)}", options: .strict).objectValue?.count, 42)
        // Only keys of the same object clash.
        XCTAssertNoThrow(try JSONValue.parse(#"{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}"#, options: .strict))
    }

    /// Hugging Face's loaders keep the last value (Python: json.loads('{"a":1,"b":2,"a":3}') == {'a': 3, 'b': 2},
    /// in that order; `tokenizers` does the same for the vocab and top-level keys of tokenizer.json).
    func testDuplicateKeysKeepTheLastValueAtTheFirstPlace() throws {
        let v = try JSONValue.parse(#"{"a": 1, "b": 2, "a": 3}"#, options: .huggingFace)
        XCTAssertEqual(v, .object([("a", .number("3")), ("b", .number("2"))]))
        let many = (0..<40).map { "\"k\($0)\": \($0)" }.joined(separator: ", ")
        let big = try JSONValue.parse("{\(many), \"k3\": \"x\", \"new\": 1, \"k39\": null}")
        XCTAssertEqual(big.objectValue?.count, 41)
        XCTAssertEqual(big.objectValue?[3].0, "k3")
        XCTAssertEqual(big["k3"], .string("x"))
        XCTAssertEqual(big["k39"], .null)
        XCTAssertEqual(big.objectValue?.last?.0, "new")
    }

    func testDepthLimit() {
        let nested = { (n: Int) in String(repeating: "[", count: n) + String(repeating: "]", count: n) }
        XCTAssertNoThrow(try JSONValue.parse(nested(64), options: .strict))
        XCTAssertEqual(parseError(nested(65), .strict)?.reason, "nesting deeper than 64")
        XCTAssertNoThrow(try JSONValue.parse(nested(512)))
        XCTAssertEqual(parseError(nested(513))?.reason, "nesting deeper than 512")
        // Refused at the limit, not recursed into until the stack runs out.
        XCTAssertEqual(parseError(String(repeating: "{\"a\":", count: 100_000))?.reason, "nesting deeper than 512")
    }

    func testStringsAreStrictUTF8() throws {
        XCTAssertEqual(try JSONValue.parse(#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#), .string("a\"\\/\u{08}\u{0C}\n\r\té😀"))
        XCTAssertEqual(try JSONValue.parse("\"héllo 😀\""), .string("héllo 😀"))
        // Raw bytes: a bad continuation, an overlong '/', an encoded surrogate, past U+10FFFF, a lone continuation.
        for bad: [UInt8] in [[0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80]] {
            for escaped in [false, true] {
                // With an escape in front the slow path checks the bytes.
                let bytes = [0x5B, 0x22] + (escaped ? Array(#"\n"#.utf8) : []) + bad + [0x22, 0x5D]
                XCTAssertThrowsError(try JSONValue.parse(bytes)) { error in
                    XCTAssertEqual((error as? JSONParseError)?.reason, "invalid UTF-8 in a string", "\(bad)")
                    XCTAssertEqual((error as? JSONParseError)?.offset, 2, "points at the string's first byte")
                }
            }
        }
        XCTAssertEqual(parseError(#""\ud83d""#)?.reason, "unpaired surrogate in a \\u escape")
        XCTAssertEqual(parseError(#""\ude00""#)?.reason, "unpaired surrogate in a \\u escape")
        XCTAssertEqual(parseError(#""\ud83d\u0041""#)?.reason, "unpaired surrogate in a \\u escape")
        XCTAssertEqual(parseError(#""\x""#)?.reason, "invalid escape '\\x' in a string")
        XCTAssertEqual(parseError(#""\u12g4""#)?.reason, "invalid hex digit in a \\u escape")
        XCTAssertEqual(parseError("\"a\tb\"")?.reason, "control character in a string")
        XCTAssertEqual(parseError("\"abc")?.reason, "unterminated string")
    }

    func testErrorsGiveLineColumnAndByte() {
        let e = parseError("{\n  \"a\": [1,\n  tru]\n}")
        XCTAssertEqual(e?.reason, "invalid literal")
        XCTAssertEqual(e.map { [$0.line, $0.column, $0.offset] }, [3, 3, 15])
        XCTAssertEqual(e?.description, "line 3, column 3 (byte 15): invalid literal")
        XCTAssertEqual(parseError("{\"a\": 1,}")?.reason, "expected a string key")
        XCTAssertEqual(parseError("[1 2]")?.reason, "expected ',' or ']'")
        XCTAssertEqual(parseError("{\"a\" 1}")?.reason, "expected ':'")
        XCTAssertEqual(parseError("{} x").map { [$0.line, $0.column] }, [1, 4])
        XCTAssertEqual(parseError("{} x")?.reason, "unexpected data after the JSON value")
        XCTAssertEqual(parseError("")?.reason, "unexpected end of input")
        XCTAssertEqual(parseError("[1,")?.reason, "unexpected end of input")
        XCTAssertEqual(parseError("@")?.reason, "unexpected character '@'")
    }

    func testEntryPointsAgree() throws {
        let text = " {\"a\": [1, \"b\", null, false]}\r\n\t"
        let bytes = Array(text.utf8)
        let expected = JSONValue.object([("a", .array([.number("1"), .string("b"), .null, .bool(false)]))])
        XCTAssertEqual(try JSONValue.parse(text), expected)
        XCTAssertEqual(try JSONValue.parse(bytes), expected)
        XCTAssertEqual(try bytes.withUnsafeBytes { try JSONValue.parse($0, options: .strict) }, expected)
        XCTAssertEqual(try bytes.withUnsafeBufferPointer { try JSONValue.parse($0) }, expected)
    }

    /// What `quoted` and `pythonJSON` write reads back as the same value.
    func testWritingRoundTrips() throws {
        let s = "q\"b\\s/ n\n r\r t\t \u{08}\u{0C}\u{01}\u{1F} é 😀"
        XCTAssertEqual(JSONValue.quoted(s), #""q\"b\\s/ n\n r\r t\t \b\f\u0001\u001f é 😀""#)
        XCTAssertEqual(try JSONValue.parse(JSONValue.quoted(s)), .string(s))
        let v = JSONValue.object([("k", .array([.string(s), .number("1.0"), .object([])])), ("", .null)])
        XCTAssertEqual(v.pythonJSON(), #"{"k": ["q\"b\\s/ n\n r\r t\t \b\f\u0001\u001f é 😀", 1.0, {}], "": null}"#)
        XCTAssertEqual(try JSONValue.parse(v.pythonJSON()), v)
    }

    /// Numbers for JSON output: shortest exact form, and null where JSON has no number (NaN, ±inf).
    func testNumbersForOutputAreAlwaysJSON() throws {
        XCTAssertEqual(jsonNumber(0.1), "0.1")
        XCTAssertEqual(jsonNumber(Float(0.1)), "0.1")
        XCTAssertEqual(jsonNumber(-2.5e-12), "-2.5e-12")
        for x in [Double.nan, -Double.nan, .infinity, -.infinity] { XCTAssertEqual(jsonNumber(x), "null") }
        for x in [Float.nan, -Float.nan, .infinity, -.infinity] { XCTAssertEqual(jsonNumber(x), "null") }
        XCTAssertEqual(try JSONValue.parse("[\(jsonNumber(Float.nan)), \(jsonNumber(1e300))]"), .array([.null, .number("1e+300")]))
    }

    /// A bad value quoted in an error message is compact and short.
    func testExcerptCutsLongValues() {
        XCTAssertEqual(JSONValue.number("1e40").excerpt(), "1e40")
        let long = JSONValue.array(Array(repeating: .number("123456789"), count: 20))
        XCTAssertEqual(long.excerpt(12), "[123456789, …")
    }
}

