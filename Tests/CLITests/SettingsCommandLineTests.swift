import Foundation
import SafeTensors
import TestSupport
import XCTest

/// `explicitlm pretrain --config FILE` as a user runs it: the file's settings, the command line
/// overriding them, the keys in `--help`, and errors that name the file and the nearest key.
final class SettingsCommandLineTests: TemporaryDirectoryTestCase {
    func testPretrainReadsAYAMLConfigAndTheCommandLineOverridesIt() throws {
        let model = try HostileFiles.model(in: work, name: "m")
        let corpus = work.appendingPathComponent("corpus.jsonl")
        try (0..<6).map { "{\"text\": \"sample \($0)\"}\n" }.joined().write(to: corpus, atomically: true, encoding: .utf8)
        let out = work.appendingPathComponent("run")
        let config = work.appendingPathComponent("run.yaml")
        try """
            model:
              config_path: \(model.appendingPathComponent("config.json").path)
              tokenizer_path: \(model.path)
            dataset.dataset_path: \(corpus.path)
            training:
              batch_size: 2
              learning_rate: 5e-3
              shuffle: False
              max_steps: 1
            logging: {out_dir: \(out.path)}
            """.write(to: config, atomically: true, encoding: .utf8)
        let result = try CommandLineRunner.run(["pretrain", "--config", config.path, "training.learning_rate=1e-3"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let checkpoint = try SafeTensorsFile(url: out.appendingPathComponent("checkpoints/checkpoint.safetensors"))
        let saved = try JSONSerialization.jsonObject(with: Data(checkpoint.metadata["config"]!.utf8)) as! [String: String]
        XCTAssertEqual(saved["training.batch_size"], "2")
        XCTAssertEqual(saved["training.shuffle"], "false")
        XCTAssertEqual(saved["training.learning_rate"], "0.001")
        XCTAssertEqual(saved["dataset.dataset_path"], corpus.path)
        XCTAssertEqual(checkpoint.metadata["step"], "1")
    }

    func testPretrainConfigErrorsNameTheFileAndTheNearestKey() throws {
        let config = work.appendingPathComponent("typo.json")
        try "{\"model.config_path\": \"c.json\",\n \"dataset\": {\"dataset_path\": \"d.jsonl\"},\n \"training\": {\"learning_rat\": 1e-3}}"
            .write(to: config, atomically: true, encoding: .utf8)
        for (arguments, expected) in [
            (["pretrain", "--config", config.path], "\(config.path):3: unknown key 'training.learning_rat' (did you mean 'training.learning_rate'?)"),
            (["pretrain", "model.config_path=c.json", "dataset.dataset_path=d.jsonl", "training.bach_size=2"],
             "unknown key 'training.bach_size' (did you mean 'training.batch_size'?)"),
            (["pretrain", "--config", work.appendingPathComponent("absent.yaml").path], "absent.yaml: cannot read the settings file"),
        ] {
            let result = try CommandLineRunner.run(arguments)
            XCTAssertFalse(result.signaled)
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains(expected), "expected '\(expected)' in:\n\(result.stderr)")
        }
    }

    func testPretrainHelpListsEveryKeyWithItsDefault() throws {
        let result = try CommandLineRunner.run(["pretrain", "--help"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let keys = ["model.qwen3_model_path", "model.config_path", "model.tokenizer_path", "model.max_seq_len", "dataset.dataset_path",
                    "training.learning_rate", "training.batch_size", "training.accumulation_steps", "training.epochs", "training.shuffle",
                    "training.weight_decay", "training.grad_clip", "training.warmup_ratio", "training.max_steps", "training.seed",
                    "training.resume", "logging.out_dir", "logging.save_dir", "logging.save_interval"]
        for key in keys {
            let listings = result.stdout.components(separatedBy: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key + " (") }
            XCTAssertEqual(listings.count, 1, "\(key) is listed \(listings.count) times in:\n\(result.stdout)")
        }
        XCTAssertTrue(result.stdout.contains("training.batch_size (integer in 1...65536; default: 8)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("--config <file>"), result.stdout)
    }
}
