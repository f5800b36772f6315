import Compute
import Encoders
import Foundation
import Qwen3
import SafeTensors
import TestSupport
import XCTest

/// The tiny random BertModel of Fixtures/tiny-bert against transformers (tiny-golden.safetensors).
/// Tolerance: 1e-5 max abs on hidden states and pooled vectors (float32 both sides; observed ~1e-6).
final class BertEncoderTests: XCTestCase {
    let tolerance: Float = 1e-5

    func golden() throws -> SafeTensorsFile {
        try SafeTensorsFile(url: EncoderFixtures.directory.appendingPathComponent("tiny-golden.safetensors"))
    }

    func testLoadsSentenceTransformersLayout() throws {
        let encoder = try BertEncoder.load(directory: EncoderFixtures.tinyBert)
        XCTAssertEqual(encoder.dimension, 32)
        XCTAssertEqual(encoder.sentenceConfig, SentenceTransformersConfig(pooling: .mean, normalize: true, maxSeqLength: 40))
        XCTAssertEqual(encoder.maxLength, 40)
        XCTAssertTrue(try makeEmbedder(path: EncoderFixtures.tinyBert) is BertEncoder)
    }

    func testLastHiddenStatesMatchTransformers() throws {
        let encoder = try BertEncoder.load(directory: EncoderFixtures.tinyBert)
        let file = try golden()
        let count = Int(file.metadata["hidden_texts"]!)!
        let texts = Array(try EncoderFixtures.texts().golden.prefix(count))
        let (hidden, offsets) = try encoder.model.lastHiddenStates(texts.map(encoder.tokenize))
        let expected = try file.tensor("hidden")
        XCTAssertEqual(hidden.shape, expected.shape)
        XCTAssertEqual(offsets.last, expected.shape[0])
        let (worst, at) = maxAbsDifference(hidden.array, expected.data)
        XCTAssertLessThan(worst, tolerance, "hidden states differ by \(worst) at \(at)")
    }

    func testPoolingModesMatchTransformers() throws {
        let loaded = try BertEncoder.load(directory: EncoderFixtures.tinyBert)
        let texts = try EncoderFixtures.texts().golden
        let file = try golden()
        let cases: [(String, SentenceTransformersConfig)] = [
            ("mean", loaded.sentenceConfig),
            ("cls", SentenceTransformersConfig(pooling: .cls, maxSeqLength: 40)),
            ("max", SentenceTransformersConfig(pooling: .max, maxSeqLength: 40)),
        ]
        for (name, config) in cases {
            let encoder = BertEncoder(model: loaded.model, tokenizer: loaded.tokenizer, sentenceConfig: config)
            encoder.batchSize = 48  // several batches of unequal lengths
            let vectors = try encoder.encode(texts)
            let expected = try file.tensor(name)
            XCTAssertEqual(expected.shape, [texts.count, 32])
            let (worst, at) = maxAbsDifference(vectors.flatMap { $0 }, expected.data)
            XCTAssertLessThan(worst, tolerance, "\(name) pooling differs by \(worst) at text \(at / 32)")
        }
    }

    func testEmbedIsNormalisedAndIndependentOfBatch() throws {
        let encoder = try BertEncoder.load(directory: EncoderFixtures.tinyBert)
        let texts = ["short", "a much longer sentence about the capital of France and its rivers", "北京"]
        let together = try encoder.embed(texts)
        for (i, text) in texts.enumerated() {
            let alone = try encoder.embed([text])[0]
            let (worst, _) = maxAbsDifference(alone, together[i])
            XCTAssertLessThan(worst, 1e-6)
            XCTAssertEqual(together[i].reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
        }
        XCTAssertEqual(try encoder.embed([]).count, 0)
    }

    /// The same weights under `bert.` names (as BertFor* checkpoints write them) give the same vectors.
    func testBertPrefixedCheckpoint() throws {
        let dir = try copyOfTinyBert()
        let source = try SafeTensorsFile(url: EncoderFixtures.tinyBert.appendingPathComponent("model.safetensors"))
        var writer = SafeTensorsWriter()
        for name in source.names where !name.hasSuffix("position_ids") { writer.add("bert." + name, try source.tensor(name)) }
        try writer.write(to: dir.appendingPathComponent("model.safetensors"))
        let texts = ["The quick brown fox.", "naïve café"]
        let a = try BertEncoder.load(directory: EncoderFixtures.tinyBert).embed(texts)
        let b = try BertEncoder.load(directory: dir).embed(texts)
        XCTAssertEqual(a, b)
    }

    func testStrictLoadingNamesTheProblem() throws {
        let source = try SafeTensorsFile(url: EncoderFixtures.tinyBert.appendingPathComponent("model.safetensors"))
        // An unknown tensor.
        var dir = try copyOfTinyBert()
        var writer = SafeTensorsWriter()
        for name in source.names { writer.add(name, try source.tensor(name)) }
        writer.add("encoder.layer.9.extra.weight", Tensor(zeros: [2]))
        try writer.write(to: dir.appendingPathComponent("model.safetensors"))
        XCTAssertTrue(thrownMessage { _ = try BertEncoder.load(directory: dir) }.contains("'encoder.layer.9.extra.weight' is not used"))
        // A missing tensor.
        dir = try copyOfTinyBert()
        writer = SafeTensorsWriter()
        for name in source.names where name != "encoder.layer.1.output.dense.bias" { writer.add(name, try source.tensor(name)) }
        try writer.write(to: dir.appendingPathComponent("model.safetensors"))
        XCTAssertTrue(thrownMessage { _ = try BertEncoder.load(directory: dir) }.contains("'encoder.layer.1.output.dense.bias' is missing"))
    }

    func testUnsupportedVariantsAreRefused() throws {
        for (key, value, expected) in [("hidden_act", "\"relu\"", "hidden_act 'relu'"),
                                       ("position_embedding_type", "\"relative_key\"", "position_embedding_type"),
                                       ("model_type", "\"roberta\"", "model_type 'roberta'")] {
            let dir = try copyOfTinyBert()
            let url = dir.appendingPathComponent("config.json")
            var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            config[key] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
            try JSONSerialization.data(withJSONObject: config).write(to: url)
            let message = thrownMessage { _ = try BertEncoder.load(directory: dir) }
            XCTAssertTrue(message.contains(expected) && message.contains("config.json"), message)
        }
        let dir = try copyOfTinyBert()
        try Data(#"{"pooling_mode_mean_sqrt_len_tokens": true}"#.utf8).write(to: dir.appendingPathComponent("1_Pooling/config.json"))
        XCTAssertTrue(thrownMessage { _ = try BertEncoder.load(directory: dir) }.contains("pooling_mode_mean_sqrt_len_tokens"))
        try Data(#"[{"path": "", "type": "sentence_transformers.models.Transformer"}, {"path": "2_Dense", "type": "sentence_transformers.models.Dense"}]"#.utf8)
            .write(to: dir.appendingPathComponent("modules.json"))
        XCTAssertTrue(thrownMessage { _ = try BertEncoder.load(directory: dir) }.contains("Dense"))
    }

    /// A writable copy of the tiny model directory.
    func copyOfTinyBert() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("explicitlm-bert-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: EncoderFixtures.tinyBert, to: dir)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }
}
