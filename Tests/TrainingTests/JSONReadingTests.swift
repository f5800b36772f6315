import Compute
import Foundation
import JSON
import SafeTensors
import Training
import XCTest

/// The JSON that Training reads (config.json's initializer_range, the checkpoint's settings, the
/// corpus lines): values of the wrong type are errors naming the file and the key.
final class JSONReadingTests: XCTestCase {
    func testInitializerRangeFromConfigJSON() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        func range(_ text: String) throws -> Double {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return try Qwen3Initializer.initializerRange(configJSON: url)
        }
        XCTAssertEqual(try range(#"{"hidden_size": 8}"#), 0.02)  // transformers' default
        XCTAssertEqual(try range(#"{"initializer_range": 0.5}"#), 0.5)
        XCTAssertEqual(try range(#"{"initializer_range": 2e-2}"#), 0.02)
        for (text, expected) in [(#"{"initializer_range": "0.02"}"#, "initializer_range must be a positive number (found a string)"),
                                 (#"{"initializer_range": -1}"#, "initializer_range must be a positive number"),
                                 (#"{"initializer_range": null}"#, "initializer_range must be a positive number (found null)"),
                                 ("[0.02]", "not a JSON object"),
                                 (#"{"initializer_range": 0.02"#, "not valid JSON")] {
            XCTAssertThrowsError(try range(text), text) {
                XCTAssertTrue("\($0)".contains(url.path + ": " + expected), "\($0)")
            }
        }
    }

    func testCheckpointSettingsRoundTripAndAreStrings() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("checkpoint.safetensors")
        let settings = ["logging.out_dir": "/tmp/a \"quoted\" dir", "model.config_path": "c.json", "note": "é\n\t\u{1}"]
        let checkpoint = TrainingCheckpoint(
            step: 3, epoch: 1, index: 2, order: [2, 0, 1], rng: SeededGenerator(seed: 9),
            parameters: ["w": Tensor(shape: [2], values: [1, 2])], expAvg: [:], expAvgSq: [:],
            settings: settings, modelConfig: "")
        try checkpoint.write(to: url)
        let read = try TrainingCheckpoint.read(from: url)
        XCTAssertEqual(read.settings, settings)
        XCTAssertEqual(read.order, [2, 0, 1])
        XCTAssertEqual(read.rng, SeededGenerator(seed: 9))

        // A setting that is not a string is named.
        var writer = SafeTensorsWriter()
        writer.add("data.order", int64s: [0], shape: [1])
        try writer.write(to: url, metadata: [
            "format": TrainingCheckpoint.format, "step": "0", "epoch": "0", "index": "0", "rng": "1,2,3,4",
            "config": #"{"training.epochs": 2}"#,
        ])
        XCTAssertThrowsError(try TrainingCheckpoint.read(from: url)) {
            XCTAssertTrue("\($0)".contains(#"__metadata__ "config" key "training.epochs" is a number, not a string"#), "\($0)")
        }
    }

    /// As Python's json (the reference reads the corpus with it): a repeated key keeps the last value.
    func testCorpusLineWithARepeatedKeyKeepsTheLastText() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("corpus.jsonl")
        try "{\"text\":\"ab\",\"text\":\"c\"}\n".write(to: url, atomically: true, encoding: .utf8)
        let data = try PretrainData.load(jsonl: url, maxSeqLen: 8, eosId: 0) { $0.utf8.map { Int32($0) } }
        XCTAssertEqual(data.sequences, [[99, 0]])
        try "{\"text\": 5}\n".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PretrainData.load(jsonl: url, maxSeqLen: 8, eosId: 0) { $0.utf8.map { Int32($0) } }) {
            XCTAssertTrue("\($0)".contains(url.path + ":1: missing string field \"text\""), "\($0)")
        }
    }

    /// A diverged run's metrics line stays JSON: NaN and infinities are written as null.
    func testMetricsLineWithNaNIsJSON() throws {
        let line = StepMetrics(step: 3, loss: .nan, lr: 1e-3, tokensPerSec: .infinity, gradNorm: -.nan).jsonLine
        let value = try JSONValue.parse(line)
        XCTAssertEqual(value["loss"], .null)
        XCTAssertEqual(value["tokens_per_sec"], .null)
        XCTAssertEqual(value["grad_norm"], .null)
        XCTAssertEqual(value["lr"], .number("0.001"))
    }
}

