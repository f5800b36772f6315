import Foundation
import TestSupport
import Training
import XCTest

/// `--config` files: JSON or YAML, nested maps or dotted keys, the same coercion as the command
/// line, which overrides them; errors name the file, the line and the key.
final class SettingsFileTests: TemporaryDirectoryTestCase {
    /// The settings every file below spells, given as arguments.
    static let arguments = [
        "model.qwen3_model_path=m", "model.cache_path=bank", "dataset.sft_dataset_path=d.jsonl",
        "training.learning_rate=5e-5", "training.shuffle=False", "model.memory_layers=0,2", "model.gate_rank=None",
        "model.retriever=hybrid", "training.max_steps=None", "dataset.system_message=Be brief.",
    ]

    func write(_ text: String, _ name: String) throws -> URL {
        let url = work.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func load(_ file: URL, _ arguments: [String] = []) throws -> MemoryTrainingConfig {
        try MemoryTrainingConfig.load(stage: .memory, arguments: arguments, configFile: file).config
    }

    func testJSONAndYAMLNestedDottedAndMixedGiveTheArgumentsConfig() throws {
        let expected = try MemoryTrainingConfig.load(stage: .memory, arguments: Self.arguments, configFile: nil).config
        XCTAssertNotEqual(expected, MemoryTrainingConfig(stage: .memory))
        let files = [
            ("nested.json", """
                {"model": {"qwen3_model_path": "m", "cache_path": "bank", "memory_layers": [0, 2], "gate_rank": null,
                \t"retriever": "hybrid"},
                 "dataset": {"sft_dataset_path": "d.jsonl", "system_message": "Be brief."},
                 "training": {"learning_rate": 5e-5, "shuffle": false, "max_steps": null}}
                """),
            ("dotted.json", """
                {"model.qwen3_model_path": "m", "model.cache_path": "bank", "model.memory_layers": "0,2",
                 "model.gate_rank": "None", "model.retriever": "hybrid", "dataset.sft_dataset_path": "d.jsonl",
                 "dataset.system_message": "Be brief.", "training.learning_rate": "5e-5", "training.shuffle": "False"}
                """),
            ("nested.yaml", """
                model:
                  qwen3_model_path: m
                  cache_path: bank
                  memory_layers:
                    - 0
                    - 2
                  gate_rank: None
                  retriever: hybrid
                dataset:
                  sft_dataset_path: d.jsonl
                  system_message: "Be brief."
                training:
                  learning_rate: 5e-5
                  shuffle: False
                  max_steps: ~
                """),
            ("dotted.yml", """
                model.qwen3_model_path: m
                model.cache_path: bank
                model.memory_layers: [0, 2]
                model.gate_rank:
                model.retriever: hybrid
                dataset.sft_dataset_path: d.jsonl
                dataset.system_message: Be brief.
                training.learning_rate: 5E-5
                training.shuffle: FALSE
                """),
            ("mixed.yaml", """
                model:
                  qwen3_model_path: m
                  cache_path: bank
                model.memory_layers: "[0, 2]"
                model.gate_rank: null
                "model.retriever": hybrid
                dataset.sft_dataset_path: d.jsonl
                dataset: {system_message: Be brief.}
                training: {learning_rate: .00005, shuffle: no}
                """),
        ]
        for (name, text) in files {
            XCTAssertEqual(try load(try write(text, name)), expected, name)
        }
    }

    func testCommandLineOverridesTheFile() throws {
        let file = try write("""
            model: {qwen3_model_path: m, cache_path: bank}
            dataset: {sft_dataset_path: d.jsonl}
            training: {learning_rate: 3e-3, batch_size: 4, max_steps: 9}
            """, "run.yaml")
        let fromFile = try load(file)
        XCTAssertEqual(fromFile.learningRate, 3e-3); XCTAssertEqual(fromFile.batchSize, 4); XCTAssertEqual(fromFile.maxSteps, 9)
        let overridden = try load(file, ["training.learning_rate=1e-2", "training.max_steps=None"])
        XCTAssertEqual(overridden.learningRate, 1e-2)
        XCTAssertEqual(overridden.batchSize, 4)
        XCTAssertNil(overridden.maxSteps)
        // PretrainConfig reads files through the same table.
        let pretrain = try write("model.config_path: c.json\ndataset:\n  dataset_path: d.jsonl\ntraining.batch_size: 2\n", "p.yaml")
        let p = try PretrainConfig(arguments: ["training.batch_size=3"], configFile: pretrain)
        XCTAssertEqual(p.configPath, "c.json"); XCTAssertEqual(p.datasetPath, "d.jsonl"); XCTAssertEqual(p.batchSize, 3)
    }

    func testErrorsNameTheFileTheLineAndTheKey() throws {
        let cases: [(String, String, String)] = [
            ("unknown.yaml", "model:\n  qwen3_model_path: m\ntraining:\n  learning_rat: 3e-3\n",
             ":4: unknown key 'training.learning_rat' (did you mean 'training.learning_rate'?)"),
            ("unknown.json", "{\"model\": {\"qwen3_model_path\": \"m\"},\n \"training.batchsize\": 2}",
             ":2: unknown key 'training.batchsize' (did you mean 'training.batch_size'?)"),
            ("bad.yaml", "training:\n  batch_size: two\n", ":2: training.batch_size: 'two' is not an integer"),
            ("list.yaml", "training:\n  batch_size: [1, 2]\n", ":2: training.batch_size: '[1, 2]' is a list; expected integer in 1...65536"),
            ("choice.json", "{\"model.retriever\": \"bm25\"}", ":1: model.retriever: 'bm25' is not a known choice"),
            ("twice.yaml", "training:\n  seed: 1\ntraining.seed: 2\n", ":3: training.seed is set twice (also at line 2)"),
            ("duplicate.yaml", "training:\n  seed: 1\n  seed: 2\n", "seed set twice in one map"),
            ("syntax.yaml", "training:\n  seed: [1\n", "not valid YAML or JSON"),
            ("syntax.json", "{\"training\": {\"seed\": 1,,}}", ":1:"),
            ("top.yaml", "- training.seed: 1\n", "expected a map of settings (key: value) at the top"),
            ("nested-list.yaml", "model:\n  memory_layers: [[0], 1]\n", "model.memory_layers: a list may hold only single values"),
        ]
        for (name, text, expected) in cases {
            let file = try write(text, name)
            let message = thrownMessage { _ = try load(file, SettingsCoercionTests.required) }
            XCTAssertTrue(message.hasPrefix(file.path), "\(name): '\(message)' does not start with the file")
            XCTAssertTrue(message.contains(expected), "\(name): expected '\(expected)' in '\(message)'")
        }
        let missing = work.appendingPathComponent("missing.yaml")
        XCTAssertTrue(thrownMessage { _ = try load(missing) }.contains("\(missing.path): cannot read the settings file"))
        // An empty file sets nothing; the required keys then come from the command line.
        XCTAssertEqual(try load(try write("", "empty.yaml"), SettingsCoercionTests.required),
                       try MemoryTrainingConfig.load(stage: .memory, arguments: SettingsCoercionTests.required, configFile: nil).config)
    }
}
