import Foundation
import Memory
import TestSupport
import XCTest

/// Knowledge bases in both forms of method.md §7, and errors that name the file, line and field.
final class KnowledgeBaseTests: TemporaryDirectoryTestCase {
    func write(_ text: String, _ name: String) throws -> URL {
        let url = work.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testTRExArrayAndJSONLinesGiveTheSameFactsInOrder() throws {
        let lima = #"{"sentence": "The capital of Peru is Lima.", "uuid": "u1", "subject": "Peru", "predicate": "capital", "object": "Lima"}"#
        let vienna = #"{"sentence": "Vienna is the capital of Austria.", "uuid": "u2", "subject": "Austria", "predicate": "capital", "object": "Vienna"}"#
        let bare = #"{"sentence": "Water boils at 100 degrees.", "subject": null}"#
        let json = try write("[{\"target\": [\(lima), \(vienna)]}, \(bare)]", "kb.json")
        let jsonl = try write("\(lima)\n\n{\"target\": [\(vienna)]}\n\(bare)\n", "kb.jsonl")
        let a = try KnowledgeBase.load(json).facts, b = try KnowledgeBase.load(jsonl).facts
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.map(\.sentence), ["The capital of Peru is Lima.", "Vienna is the capital of Austria.", "Water boils at 100 degrees."])
        XCTAssertEqual(a[1], Fact(sentence: "Vienna is the capital of Austria.", uuid: "u2", subject: "Austria", predicate: "capital", object: "Vienna"))
        XCTAssertEqual(a[2], Fact(sentence: "Water boils at 100 degrees."))
        // Windows line ends read the same, and line numbers still count lines.
        let crlf = try write("\(lima)\r\n\r\n{\"target\": [\(vienna)]}\r\n\(bare)\r\n", "crlf.jsonl")
        XCTAssertEqual(try KnowledgeBase.load(crlf).facts, a)
        let bad = try write("\(lima)\r\n{\"sentence\": 1}\r\n", "bad.jsonl")
        XCTAssertThrowsError(try KnowledgeBase.load(bad)) { XCTAssertTrue("\($0)".contains("bad.jsonl:2:"), "\($0)") }
    }

    func testErrorsNameFileLineAndField() throws {
        let cases: [(String, String, String)] = [
            ("{\"sentence\": \"a\"}\n{\"sentence\": 3}\n", "kb.jsonl", "kb.jsonl:2: \"sentence\" is a number, expected a string"),
            ("{\"sentence\": \"a\"}\n{\"sentence\": \"a\"\n", "kb.jsonl", "kb.jsonl:2: not valid JSON at column"),
            ("{\"sentence\": \"a\"}\n[1]\n", "kb.jsonl", "kb.jsonl:2: expected a JSON object"),
            ("{\"uuid\": \"x\"}\n", "kb.jsonl", "kb.jsonl:1: \"sentence\" is missing or empty"),
            ("{\"sentence\": \"  \"}\n", "kb.jsonl", "kb.jsonl:1: \"sentence\" is missing or empty"),
            ("[{\"target\": [{\"sentence\": \"a\"}, {\"sentence\": \"b\", \"object\": [1]}]}]", "kb.json", "kb.json: [0] target[1]: \"object\" is an array"),
            ("[{\"target\": {\"sentence\": \"a\"}}]", "kb.json", "kb.json: [0]: \"target\" is an object, expected an array"),
            ("[\n{\"sentence\": \"a\"},\n]", "kb.json", "kb.json: not valid JSON at line 3"),
            ("\"facts\"", "kb.json", "expected a JSON array"),
            ("[]", "kb.json", "kb.json: no facts"),
            ("{\"sentence\": \"a\", \"uuid\": \"u\"}\n{\"sentence\": \"b\", \"uuid\": \"u\"}\n", "kb.jsonl", "fact 2 repeats the uuid \"u\" of fact 1"),
        ]
        for (text, name, expected) in cases {
            let url = try write(text, name)
            XCTAssertThrowsError(try KnowledgeBase.load(url), text) { XCTAssertTrue("\($0)".contains(expected), "expected '\(expected)' in '\($0)'") }
        }
        XCTAssertThrowsError(try KnowledgeBase.load(work.appendingPathComponent("missing.json"))) { XCTAssertTrue("\($0)".contains("missing.json: cannot read")) }
    }
}
