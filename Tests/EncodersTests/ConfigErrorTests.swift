import Encoders
import Foundation
import TestSupport
import Tokenizers
import XCTest

/// Malformed tokenizer.json and sentence-transformers files: the error names the file (when read from
/// one), the key and the problem.
final class ConfigErrorTests: XCTestCase {
    /// `members` spliced into a minimal WordPiece tokenizer.json (vocabulary [UNK], a, b).
    func wordPieceMessage(model: String = "", _ members: String = "") -> String {
        let json = #"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1, "b": 2}\#(model)}\#(members)}"#
        return thrownMessage { _ = try WordPieceTokenizer(json: Data(json.utf8)) }
    }

    func testMinimalTokenizerLoads() throws {
        let json = ###"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1, "##b": 2}}, "normalizer": null, "padding": null}"###
        let tokenizer = try WordPieceTokenizer(json: Data(json.utf8))
        XCTAssertEqual(tokenizer.encode("ab c"), [1, 2, 0])
        XCTAssertEqual(tokenizer.vocabSize, 3)
        XCTAssertNil(tokenizer.truncationMaxLength)
    }

    func testWordPieceErrorsNameTheKey() {
        let cases: [(model: String, members: String, expected: String)] = [
            (#", "max_input_chars_per_word": "100""#, "", "model.max_input_chars_per_word is not a non-negative integer"),
            (#", "unk_token": 0"#, "", "model.unk_token is not a string"),
            ("", #", "normalizer": {"type": "BertNormalizer", "lowercase": "yes"}"#, "normalizer.lowercase is not a boolean"),
            ("", #", "normalizer": "BertNormalizer""#, "normalizer is not an object"),
            ("", #", "pre_tokenizer": []"#, "pre_tokenizer is not an object"),
            ("", #", "added_tokens": [{"content": "x", "id": -1}]"#, "added_tokens[0].id is not a non-negative integer id"),
            ("", #", "added_tokens": [{"id": 3}]"#, "added_tokens[0] lacks 'content' or 'id'"),
            ("", #", "added_tokens": {}"#, "added_tokens is not an array"),
            ("", #", "padding": {"pad_id": 1.5}"#, "padding.pad_id is not a non-negative integer id"),
            ("", #", "truncation": {"max_length": "512"}"#, "truncation.max_length is not a non-negative integer"),
            ("", #", "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "a"}}], "special_tokens": {"a": {"ids": ["1"]}}}"#,
             "post_processor.special_tokens['a'].ids[0] is not a non-negative integer id"),
            ("", #", "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "c"}}]}"#,
             "post_processor.single: token 'c' is not in the vocabulary"),
            (#", "vocab": {"a": -1}"#, "", "model.vocab['a'] is not a non-negative integer id"),
        ]
        for (model, members, expected) in cases {
            let message = wordPieceMessage(model: model, members)
            XCTAssertTrue(message.contains(expected), "expected '\(expected)', got '\(message)'")
        }
        XCTAssertTrue(thrownMessage { _ = try WordPieceTokenizer(json: Data("[]".utf8)) }.contains("the top level is not a JSON object"))
        let truncated = thrownMessage { _ = try WordPieceTokenizer(json: Data(#"{"model": {"#.utf8)) }
        XCTAssertTrue(truncated.contains("invalid JSON: line 1, column"), truncated)
        XCTAssertTrue(thrownMessage { _ = try WordPieceTokenizer(json: Data("{}".utf8)) }.contains("key 'model' is missing"))
    }

    /// The template's special tokens take their ids from `special_tokens`, else from the vocabulary.
    func testTemplateSpecialTokens() throws {
        let json = #"""
        {"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1, "[CLS]": 2, "[SEP]": 3}},
         "post_processor": {"type": "TemplateProcessing",
           "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
           "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [7, 8], "tokens": ["[CLS]"]}}}}
        """#
        let tokenizer = try WordPieceTokenizer(json: Data(json.utf8))
        XCTAssertEqual(tokenizer.prefixIds, [7, 8])
        XCTAssertEqual(tokenizer.suffixIds, [3])
        XCTAssertEqual(tokenizer.encode("a"), [7, 8, 1, 3])
    }

    func testSentenceTransformersErrorsNameFileAndKey() throws {
        let cases: [(file: String, contents: String, expected: [String])] = [
            ("sentence_bert_config.json", #"{"max_seq_length": "long"}"#, ["sentence_bert_config.json", "key 'max_seq_length'"]),
            ("sentence_bert_config.json", #"{"max_seq_length": 0}"#, ["sentence_bert_config.json", "max_seq_length' is not a positive integer"]),
            ("modules.json", #"{"type": "Pooling"}"#, ["modules.json"]),
            ("modules.json", #"[{"type": 3}]"#, ["modules.json", "key '[0].type'"]),
            ("1_Pooling/config.json", #"{"pooling_mode_cls_token": false}"#, ["1_Pooling/config.json", "found none"]),
            ("1_Pooling/config.json", #"{"pooling_mode": "sum"}"#, ["1_Pooling/config.json", "pooling_mode 'sum'"]),
            ("config.json", #"{"model_type": "bert", "hidden_size": "big"}"#, ["config.json", "key 'hidden_size'"]),
            ("config.json", #"{"model_type": "bert""#, ["config.json", "not valid JSON at line 1, column 22"]),
        ]
        for (file, contents, expected) in cases {
            let dir = try copyOfTinyBert()
            try Data(contents.utf8).write(to: dir.appendingPathComponent(file))
            let message = thrownMessage { _ = try BertEncoder.load(directory: dir) }
            for part in expected { XCTAssertTrue(message.contains(part), "\(file): expected '\(part)', got '\(message)'") }
        }
        let dir = try copyOfTinyBert()
        try Data(#"{"model_type": 3}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        let message = thrownMessage { _ = try makeEmbedder(path: dir) }
        XCTAssertTrue(message.contains("config.json") && message.contains("key 'model_type'"), message)
    }

    /// tokenizer_config.json's model_max_length is the limit when sentence_bert_config.json sets none;
    /// transformers' "no limit" (1e30) leaves it unset.
    func testTokenizerConfigLengthLimit() throws {
        let dir = try copyOfTinyBert()
        try FileManager.default.removeItem(at: dir.appendingPathComponent("sentence_bert_config.json"))
        let url = dir.appendingPathComponent("tokenizer_config.json")
        try Data(#"{"model_max_length": 24, "do_lower_case": true}"#.utf8).write(to: url)
        XCTAssertEqual(try SentenceTransformersConfig.load(directory: dir).tokenizerMaxLength, 24)
        try Data(#"{"model_max_length": 1000000000000000019884624838656}"#.utf8).write(to: url)
        XCTAssertNil(try SentenceTransformersConfig.load(directory: dir).tokenizerMaxLength)
    }

    func copyOfTinyBert() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("explicitlm-config-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: EncoderFixtures.tinyBert, to: dir)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }
}
