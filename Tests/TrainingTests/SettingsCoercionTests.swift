import Foundation
import Memory
import TestSupport
import Training
import XCTest

/// Values are coerced as the seed's Python tooling coerces them, and a value that does not fit is
/// an error naming the key, the value and what is allowed.
final class SettingsCoercionTests: XCTestCase {
    static let required = ["model.qwen3_model_path=m", "model.cache_path=bank", "dataset.sft_dataset_path=d.jsonl"]

    func load(_ arguments: [String]) throws -> MemoryTrainingConfig {
        try MemoryTrainingConfig.load(stage: .memory, arguments: Self.required + arguments, configFile: nil).config
    }

    func testBooleans() throws {
        for (text, expected) in [("True", true), ("FALSE", false), ("true", true), ("1", true), ("0", false), ("yes", true), ("No", false)] {
            XCTAssertEqual(try load(["dataset.skip_invalid=\(text)"]).skipInvalid, expected, text)
            XCTAssertEqual(try load(["training.shuffle=\(text)"]).shuffle, expected, text)
        }
    }

    func testNumbers() throws {
        for (text, expected) in [("5e-5", 5e-5), ("3E-3", 3e-3), (".5", 0.5), ("2", 2.0), ("1.25e+1", 12.5)] {
            XCTAssertEqual(try load(["training.learning_rate=\(text)"]).learningRate, expected, text)
        }
        XCTAssertEqual(try load(["training.warmup_ratio=.5"]).warmupRatio, 0.5)
        XCTAssertEqual(try load(["training.batch_size=16"]).batchSize, 16)
        XCTAssertEqual(try load(["training.seed=18446744073709551615"]).seed, UInt64.max)
    }

    func testNoneNullAndEmptyUnsetOptionalKeys() throws {
        for unset in ["None", "null", "", "NULL"] {
            let c = try load(["training.max_steps=5", "training.max_steps=\(unset)", "dataset.system_message=hi",
                              "dataset.system_message=\(unset)", "model.memory_layers=0,1", "model.memory_layers=\(unset)"])
            XCTAssertNil(c.maxSteps, unset); XCTAssertNil(c.systemMessage, unset); XCTAssertNil(c.memory.memoryLayers, unset)
        }
        XCTAssertEqual(try load(["training.max_steps=5"]).maxSteps, 5)
        XCTAssertEqual(try load(["dataset.system_message=Be brief, True."]).systemMessage, "Be brief, True.")
    }

    func testRanksTakeNoneAsFullRank() throws {
        let c = try load(["model.gate_rank=None", "model.fusion_rank=64"])
        XCTAssertEqual(c.memory.gateRank, 0)
        XCTAssertEqual(c.memory.fusionRank, 64)
        XCTAssertEqual(try load(["model.fusion_rank=null"]).memory.fusionRank, 0)
    }

    func testListsAndChoices() throws {
        for text in ["0,1,3", "[0, 1, 3]", " [0,1, 3] "] {
            XCTAssertEqual(try load(["model.memory_layers=\(text)"]).memory.memoryLayers, [0, 1, 3], text)
        }
        let c = try load(["model.retriever=dense", "model.fusion=swiglu"])
        XCTAssertEqual(c.memory.retriever, .dense)
        XCTAssertEqual(c.memory.fusion, .swiglu)
        XCTAssertEqual(try load(["model.fusion=cross_attention"]).memory.fusion, .crossAttention)
    }

    func testBadValuesNameKeyValueAndWhatIsAllowed() {
        let cases: [(String, String)] = [
            ("training.batch_size=two", "training.batch_size: 'two' is not an integer (allowed: integer in 1...65536)"),
            ("training.batch_size=0", "training.batch_size: '0' is below the minimum 1"),
            ("training.epochs=1048577", "training.epochs: '1048577' is above the maximum 1048576"),
            ("training.learning_rate=-1", "training.learning_rate: '-1' is out of range (allowed: number > 0)"),
            ("training.learning_rate=nan", "training.learning_rate: 'nan' is not a number"),
            ("training.warmup_ratio=1.5", "training.warmup_ratio: '1.5' is out of range (allowed: number in 0...1)"),
            ("training.shuffle=maybe", "training.shuffle: 'maybe' is not true or false"),
            ("training.seed=-1", "training.seed: '-1' is not a non-negative integer"),
            ("model.retriever=bm25", "model.retriever: 'bm25' is not a known choice (allowed: one of lexical|encoder|dense|hybrid)"),
            ("model.fusion=mlp", "model.fusion: 'mlp' is not a known choice (allowed: one of cross_attention|swiglu)"),
            ("model.memory_layers=0,x", "model.memory_layers: '0,x' has 'x', which is not an integer"),
            ("model.gate_rank=full", "model.gate_rank: 'full' is not an integer"),
            ("logging.out_dir=None", "logging.out_dir: 'None' leaves the key unset, but it needs a path"),
            ("training.max_steps=0", "training.max_steps: '0' is below the minimum 1"),
            // The memory's limits (MemoryConfig.validate), checked without a backbone.
            ("model.knowledge_num=1000", "model.knowledge_num: 1000 is not a perfect square"),
            ("model.memory_layers=[2, 1]", "model.memory_layers: 2,1 must be increasing"),
            ("training.counterfactual_swap=2", "training.counterfactual_swap: 2.0 must be a probability in 0...1"),
            ("training.num_candidates=0", "training.num_candidates: 0 must be in 1...4096"),
            ("model.gate_rank=-3", "model.gate_rank: -3 must be 0 (full rank)"),
            ("training.epochs", "'training.epochs': expected key=value"),
        ]
        for (argument, expected) in cases {
            let message = thrownMessage { _ = try load([argument]) }
            XCTAssertTrue(message.contains(expected), "\(argument): expected '\(expected)' in '\(message)'")
        }
    }

    func testUnknownKeysNameTheNearestKnownKey() {
        let cases: [(String, String)] = [
            ("training.learning_rat=1", "unknown key 'training.learning_rat' (did you mean 'training.learning_rate'?)"),
            ("learning_rate=1", "unknown key 'learning_rate' (did you mean 'training.learning_rate'?)"),
            ("model.gate_rnak=4", "(did you mean 'model.gate_rank'?)"),
            ("train.batch_size=4", "(did you mean 'training.batch_size'?)"),
            ("training.lr=1", "unknown key 'training.lr' (the training keys: training.accumulation_steps,"),
            ("optimizer.betas=1", "unknown key 'optimizer.betas' (keys are section.name, the sections: dataset, logging, model, training;"),
        ]
        for (argument, expected) in cases {
            let message = thrownMessage { _ = try load([argument]) }
            XCTAssertTrue(message.contains(expected), "\(argument): expected '\(expected)' in '\(message)'")
        }
        XCTAssertFalse(thrownMessage { _ = try load(["training.lr=1"]) }.contains("did you mean"))
    }
}
