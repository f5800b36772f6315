import Foundation
import JSON
import Tokenizers
import XCTest

/// A tokenizer.json that repeats keys reads as the `tokenizers` library reads it: the last value wins
/// (fixture from scripts/make_duplicate_key_goldens.py; ids compared exactly).
final class DuplicateKeyTests: XCTestCase {
    func testRepeatedKeysKeepTheLastValueAsHuggingFaceDoes() throws {
        let golden = try TestData.fixture("duplicate_keys.json")
        let text = try XCTUnwrap(golden["tokenizer_json"]?.stringValue)
        let texts = try XCTUnwrap(golden["texts"]?.arrayValue).map { try XCTUnwrap($0.stringValue) }
        let ids = try XCTUnwrap(golden["ids"]?.arrayValue).map { try XCTUnwrap($0.arrayValue).map { Int32(try XCTUnwrap($0.intValue)) } }
        XCTAssertEqual(texts.count, ids.count)

        // Through the file loader, which chooses the parse options.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dupkeys-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("tokenizer.json")
        try Data(text.utf8).write(to: file)
        let tok = try BPETokenizer(url: file)
        for (t, expected) in zip(texts, ids) {
            XCTAssertEqual(tok.encode(t), expected, t)
        }
        // The same file is refused where duplicates are a contract violation.
        XCTAssertThrowsError(try JSONValue.parse(text, options: .strict)) { error in
            XCTAssertTrue("\(error)".contains("duplicate key \"ab\""), "\(error)")
        }
    }
}
