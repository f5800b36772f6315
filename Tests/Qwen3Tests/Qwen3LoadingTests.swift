import Compute
import Foundation
import Qwen3
import XCTest

/// config.json reading and strict weight loading.
final class Qwen3LoadingTests: XCTestCase {
    func config(_ json: String) throws -> Qwen3Config {
        try JSONDecoder().decode(Qwen3Config.self, from: Data(json.utf8))
    }

    func testConfigReadsEveryFieldWithReferenceDefaults() throws {
        let c = try config(#"{"model_type": "qwen3", "hidden_size": 64, "num_attention_heads": 4}"#)
        XCTAssertEqual(c.headDim, 128, "head_dim is explicit, not hidden/heads")
        XCTAssertEqual(c.numKeyValueHeads, 4, "kv heads default to the attention heads")
        XCTAssertEqual(c.ropeTheta, 10_000)
        XCTAssertEqual(c.rmsNormEps, 1e-6)
        XCTAssertFalse(c.tieWordEmbeddings)
        let file = try Qwen3Config.load(from: Fixtures.directory("untied-gqa-bf16").appendingPathComponent("config.json"))
        XCTAssertEqual(file.headDim, 24)
        XCTAssertEqual(file.numKeyValueHeads, 2)
        XCTAssertEqual(file.eosTokenIds, [7, 5])
        let old = try config(#"{"model_type": "qwen3", "rope_theta": 1000000.0, "rope_scaling": null, "eos_token_id": 151645}"#)
        XCTAssertEqual(old.ropeTheta, 1_000_000)
        XCTAssertEqual(old.eosTokenIds, [151_645])
    }

    func testConfigRefusesWhatIsNotImplemented() {
        let cases = [
            (#"{"model_type": "qwen3", "rope_scaling": {"rope_type": "yarn", "factor": 4.0}}"#, "yarn"),
            (#"{"model_type": "qwen3", "rope_parameters": {"rope_type": "linear", "factor": 2.0}}"#, "linear"),
            (#"{"model_type": "qwen3", "use_sliding_window": true}"#, "sliding-window"),
            (#"{"model_type": "qwen3", "layer_types": ["full_attention", "sliding_attention"]}"#, "sliding_attention"),
            (#"{"model_type": "llama"}"#, "llama"),
            (#"{"model_type": "qwen3", "num_attention_heads": 6, "num_key_value_heads": 4}"#, "multiple"),
            (#"{"model_type": "qwen3", "hidden_size": "big"}"#, "hidden_size"),
            // Sizes whose parameter count overflowed Int (found by the config fuzzer): each size is bounded.
            (#"{"model_type": "qwen3", "head_dim": 333333333333333328}"#, "head_dim is 333333333333333328: it must be in 1...1024"),
            (#"{"model_type": "qwen3", "vocab_size": 576460752303423488}"#, "vocab_size is 576460752303423488: it must be in 1...16777216"),
        ]
        for (json, expected) in cases {
            XCTAssertThrowsError(try config(json), json) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error) should mention \(expected)")
            }
        }
    }

    func testConfigFileErrorsNameTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-config-\(getpid()).json")
        try Data("{ not json".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try Qwen3Config.load(from: url)) { error in
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
    }

    /// The tied checkpoint's tensors in memory, to break in controlled ways.
    func tiedTensors() throws -> (Qwen3Config, [String: Tensor]) {
        let model = try Qwen3Model.load(directory: Fixtures.directory("tied-mha-f32"))
        return (model.config, Dictionary(uniqueKeysWithValues: model.weights.named(model.config)))
    }

    func testStrictLoadingNamesMissingUnexpectedAndMisshapenTensors() throws {
        let (config, tensors) = try tiedTensors()
        XCTAssertNoThrow(try Qwen3Weights.load(config, from: InMemoryTensors(tensors)))

        var missing = tensors
        missing["model.layers.1.mlp.up_proj.weight"] = nil
        XCTAssertThrowsError(try Qwen3Weights.load(config, from: InMemoryTensors(missing))) {
            XCTAssertTrue("\($0)".contains("missing tensor 'model.layers.1.mlp.up_proj.weight'"), "\($0)")
        }
        var extra = tensors
        extra["model.layers.0.self_attn.rotary.weight"] = Tensor(zeros: [2])
        XCTAssertThrowsError(try Qwen3Weights.load(config, from: InMemoryTensors(extra))) {
            XCTAssertTrue("\($0)".contains("unexpected tensor 'model.layers.0.self_attn.rotary.weight'"), "\($0)")
        }
        var misshapen = tensors
        misshapen["model.norm.weight"] = Tensor(zeros: [config.hiddenSize + 1])
        XCTAssertThrowsError(try Qwen3Weights.load(config, from: InMemoryTensors(misshapen))) {
            XCTAssertTrue("\($0)".contains("'model.norm.weight' has shape [49]"), "\($0)")
        }
        // Tied embeddings: a stray lm_head.weight is ignored, and the head is the embedding table.
        var stray = tensors
        stray["lm_head.weight"] = Tensor(zeros: [config.vocabSize, config.hiddenSize])
        let weights = try Qwen3Weights.load(config, from: InMemoryTensors(stray))
        XCTAssertTrue(weights.lmHead === weights.embedTokens)
    }

    func testParameterCountMatchesTheCheckpoint() throws {
        for variant in Fixtures.variants {
            let model = try Qwen3Model.load(directory: Fixtures.directory(variant))
            let stored = model.weights.named(model.config).reduce(0) { $0 + $1.1.count }
            XCTAssertEqual(model.config.parameterCount, stored, variant)
        }
    }
}
