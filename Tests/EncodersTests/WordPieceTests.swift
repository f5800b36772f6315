import Foundation
import TestSupport
import Tokenizers
import XCTest

/// Ids against the `tokenizers` library (wordpiece-ids.json, made by scripts/make_bert_fixtures.py)
/// on ~300 texts: accents, CJK, punctuation, controls, special tokens in the text, long words and
/// over-long inputs. Exact equality of every id.
final class WordPieceTests: XCTestCase {
    struct Golden: Decodable { let max_length: Int; let ids: [[Int32]] }

    func goldens() throws -> [String: Golden] {
        try JSONDecoder().decode([String: Golden].self,
                                 from: Data(contentsOf: EncoderFixtures.directory.appendingPathComponent("wordpiece-ids.json")))
    }

    /// The tiny tokenizer.json with the normaliser that the golden variant used.
    func tinyTokenizer(variant: String) throws -> WordPieceTokenizer {
        let url = EncoderFixtures.directory.appendingPathComponent("wordpiece-ids.json")
        let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let normalizer = (raw[variant] as! [String: Any])["normalizer"]!
        var tokenizer = try JSONSerialization.jsonObject(
            with: Data(contentsOf: EncoderFixtures.tinyBert.appendingPathComponent("tokenizer.json"))) as! [String: Any]
        tokenizer["normalizer"] = normalizer
        return try WordPieceTokenizer(json: JSONSerialization.data(withJSONObject: tokenizer))
    }

    func check(_ tokenizer: WordPieceTokenizer, _ golden: Golden, texts: [String], label: String) {
        XCTAssertEqual(golden.ids.count, texts.count)
        var mismatches: [String] = []
        for (text, expected) in zip(texts, golden.ids) {
            let ids = tokenizer.encode(text, maxLength: golden.max_length)
            if ids != expected { mismatches.append("\(text.debugDescription): got \(ids), expected \(expected)") }
        }
        XCTAssertTrue(mismatches.isEmpty, "\(label): \(mismatches.count) of \(texts.count) texts differ; first: \(mismatches.prefix(3).joined(separator: "\n"))")
    }

    func testTinyVocabularyAllNormaliserVariants() throws {
        let texts = try EncoderFixtures.texts().golden
        let goldens = try goldens()
        let variants = goldens.keys.filter { $0.hasPrefix("tiny-") }.sorted()
        XCTAssertEqual(variants.count, 5)
        for variant in variants {
            check(try tinyTokenizer(variant: variant), goldens[variant]!, texts: texts, label: variant)
        }
    }

    func testMiniLMTokenizer() throws {
        let dir = try EncoderFixtures.miniLM()
        let tokenizer = try WordPieceTokenizer(url: dir.appendingPathComponent("tokenizer.json"))
        XCTAssertEqual(tokenizer.vocabSize, 30522)
        XCTAssertEqual(tokenizer.prefixIds, [101])
        XCTAssertEqual(tokenizer.suffixIds, [102])
        let golden = try goldens()["minilm"]!
        check(tokenizer, golden, texts: try EncoderFixtures.texts().golden, label: "minilm")
        // The golden set reaches the truncation length.
        XCTAssertTrue(golden.ids.contains { $0.count == golden.max_length })
    }

    func testTruncationKeepsSpecialTokens() throws {
        let tokenizer = try tinyTokenizer(variant: "tiny-lower")
        let ids = tokenizer.encode(String(repeating: "the ", count: 50), maxLength: 5)
        XCTAssertEqual(ids.count, 5)
        XCTAssertEqual(ids.first, tokenizer.prefixIds.first)
        XCTAssertEqual(ids.last, tokenizer.suffixIds.last)
    }

    func testUnsupportedTokenizersAreRefused() throws {
        let bpe = #"{"model": {"type": "BPE", "vocab": {}, "merges": []}}"#
        XCTAssertTrue(thrownMessage { _ = try WordPieceTokenizer(json: Data(bpe.utf8)) }.contains("model.type 'BPE'"))
        let noUnk = #"{"model": {"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "[UNK]"}}"#
        XCTAssertTrue(thrownMessage { _ = try WordPieceTokenizer(json: Data(noUnk.utf8)) }.contains("unk_token"))
        let badNormalizer = #"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "normalizer": {"type": "NFKC"}}"#
        XCTAssertTrue(thrownMessage { _ = try WordPieceTokenizer(json: Data(badNormalizer.utf8)) }.contains("normalizer.type 'NFKC'"))
        let missing = URL(fileURLWithPath: "/nonexistent/tokenizer.json")
        XCTAssertTrue(thrownMessage { _ = try WordPieceTokenizer(url: missing) }.contains("/nonexistent/tokenizer.json"))
    }
}

/// A vocabulary with NFC and NFD spellings of the same word as different ids: the reference
/// compares bytes, so must we (wordpiece-canonical.json, ids from `tokenizers`).
final class WordPieceCanonicalTests: XCTestCase {
    func testCanonicallyEquivalentTokensStayDistinct() throws {
        let url = EncoderFixtures.directory.appendingPathComponent("wordpiece-canonical.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let tokenizer = try WordPieceTokenizer(json: Data((root["tokenizer_json"] as! String).utf8))
        let texts = root["texts"] as! [String], expected = root["ids"] as! [[NSNumber]]
        XCTAssertEqual(tokenizer.vocabSize, 16)
        for (text, ids) in zip(texts, expected) {
            XCTAssertEqual(tokenizer.encode(text), ids.map { Int32($0.intValue) }, "\(Array(text.unicodeScalars))")
        }
    }
}
