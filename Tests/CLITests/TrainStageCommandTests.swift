import Foundation
import SafeTensors
import TestSupport
import XCTest

/// The seed's workflow as a user runs it: build the bank, label the data, train the router, run
/// memory SFT with evaluation, evaluate, plot; settings from a YAML file and the command line.
final class TrainStageCommandTests: TemporaryDirectoryTestCase {
    static let capitals = [("Peru", "Lima"), ("Austria", "Vienna"), ("Chile", "Santiago"), ("Kenya", "Nairobi"), ("Japan", "Tokyo"),
                           ("Norway", "Oslo"), ("Egypt", "Cairo"), ("Spain", "Madrid"), ("Cuba", "Havana"), ("Fiji", "Suva")]

    func run(_ arguments: [String], _ file: StaticString = #filePath, line: UInt = #line) throws -> CommandLineRunner.Result {
        let result = try CommandLineRunner.run(arguments)
        XCTAssertEqual(result.status, 0, "\(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result
    }

    func write(_ lines: [String], _ name: String) throws -> String {
        let url = work.appendingPathComponent(name)
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func conversations(_ range: Range<Int>, _ name: String) throws -> String {
        try write(range.map { i in
            #"{"conversations": [{"role": "user", "content": "What is the capital of \#(Self.capitals[i].0)?"}, {"role": "assistant", "content": "\#(Self.capitals[i].1)"}], "fact_uuid": "f\#(i)"}"#
        }, name)
    }

    func testBuildLabelTrainEvaluateAndPlot() throws {
        let model = try HostileFiles.model(in: work, name: "m").path
        let kb = try write(Self.capitals.enumerated().map { i, c in
            #"{"sentence": "The capital of \#(c.0) is \#(c.1).", "uuid": "f\#(i)", "subject": "\#(c.0)", "predicate": "capital", "object": "\#(c.1)"}"#
        }, "kb.jsonl")
        let bank = work.appendingPathComponent("bank").path
        _ = try run(["build-memory", "--model", model, "--knowledge", kb, "--out", bank, "--knowledge-length", "40"])
        let train = try conversations(0..<7, "train.jsonl"), val = try conversations(7..<10, "val.jsonl")

        // label: the gold row of each fact_uuid, with score 1.
        let router = work.appendingPathComponent("router.jsonl").path
        _ = try run(["label", "--memory", bank, "--input", train, "--output", router])
        let labels = try String(contentsOfFile: router, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(labels.count, 7)
        XCTAssertTrue(labels[1].contains(#""target_indices":[1]"#) || labels[1].contains(#""target_indices": [1]"#), String(labels[1]))

        // train-router from a YAML file, one key overridden on the command line.
        let yaml = try write(["model:", "  qwen3_model_path: \(model)", "  cache_path: \(bank)", "  retriever: dense", "  gate_rank: None",
                              "  fusion_heads: 2", "  fusion_head_dim: 8", "  fusion_rank: 0",
                              "dataset:", "  router_dataset_path: \(router)", "  router_val_dataset_path: \(router)",
                              "training:", "  learning_rate: 5e-3", "  batch_size: 4", "  epochs: 2", "  num_candidates: 4",
                              "logging:", "  out_dir: \(work.path)/router-run", "  use_swanlab: true"], "router.yaml")
        // batch_size 8 over 7 queries: every epoch is one step, and each still gets its own gate file.
        let routed = try run(["train-router", "--config", yaml, "training.epochs=3", "training.batch_size=8"])
        XCTAssertTrue(routed.stderr.contains("warning: logging.use_swanlab is ignored"), routed.stderr)
        for e in 1...3 {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(work.path)/router-run/checkpoints/memory_gate_epoch_\(e).safetensors"), "epoch \(e)")
        }
        let gate = "\(work.path)/router-run/checkpoints/memory_gate_epoch_3.safetensors"
        // A router checkpoint is a memory checkpoint: generate reads it.
        _ = try run(["generate", "--model", model, "--prompt", "What is the capital of Peru?", "--max-new-tokens", "2",
                     "--memory", bank, "--checkpoint", gate])

        // train-memory with the command line alone; evaluation every 4 steps.
        let out = "\(work.path)/sft-run"
        _ = try run(["train-memory", "model.qwen3_model_path=\(model)", "model.cache_path=\(bank)", "model.fusion_heads=2",
                     "model.fusion_head_dim=8", "model.fusion_rank=0", "training.num_candidates=4", "training.learning_rate=1e-2",
                     "training.batch_size=4", "training.epochs=4", "training.eval_interval=4", "training.eval_num_samples=3",
                     "dataset.sft_dataset_path=\(train)", "dataset.sft_val_dataset_path=\(val)", "logging.out_dir=\(out)"])
        let lines = try String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(lines.filter { $0["loss_ce"] != nil }.count, 8)
        let evaluations = lines.filter { $0["eval_loss"] != nil }
        XCTAssertEqual(evaluations.map { $0["step"] as? Int }, [0, 4, 8])
        for key in ["eval_accuracy", "eval_accuracy_memory_off", "eval_recall", "eval_selection", "eval_loss_memory_off"] {
            XCTAssertNotNil(evaluations.last?[key], key)
        }
        let checkpoint = "\(out)/checkpoints/sft_latest.safetensors"
        XCTAssertNotNil(try SafeTensorsFile(url: URL(fileURLWithPath: checkpoint)).entry("optimizer.exp_avg.memory.layers.0.alpha.beta"))

        let report = try run(["eval", "--model", model, "--memory", bank, "--checkpoint", checkpoint, "--data", val, "--json"])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((object["retrieval"] as? [String: Any])?["recall"] as? Double, 1, report.stdout)

        let svg = work.appendingPathComponent("metrics.svg").path
        _ = try run(["plot", "\(out)/metrics.jsonl", "--out", svg])
        XCTAssertTrue(try String(contentsOfFile: svg, encoding: .utf8).contains("eval_loss"))

        // A typo names the key it was probably meant to be.
        let typo = try CommandLineRunner.run(["train-memory", "model.qwen3_model_path=\(model)", "model.cache_path=\(bank)",
                                              "dataset.sft_dataset_path=\(train)", "training.learning_rat=1e-3"])
        XCTAssertNotEqual(typo.status, 0)
        XCTAssertTrue(typo.stderr.contains("did you mean 'training.learning_rate'?"), typo.stderr)
    }
}
