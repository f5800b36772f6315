import Compute
import Foundation
import Qwen3
import Training
import XCTest

/// `explicitlm pretrain` through its library entry: configuration, corpus, from-scratch training,
/// split-and-resumed runs, export.
final class PretrainRunTests: XCTestCase {
    func testConfigDefaultsAndErrorsNameTheKey() throws {
        let c = try PretrainConfig(arguments: ["model.config_path=c.json", "dataset.dataset_path=d.jsonl",
                                               "training.learning_rate=1e-3", "training.shuffle=false", "training.max_steps=5"])
        XCTAssertEqual(c.learningRate, 1e-3)
        XCTAssertEqual(c.shuffle, false)
        XCTAssertEqual(c.maxSteps, 5)
        XCTAssertEqual(c.weightDecay, 0.1); XCTAssertEqual(c.gradClip, 1.0); XCTAssertEqual(c.warmupRatio, 0.1)
        XCTAssertEqual(c.batchSize, 8); XCTAssertEqual(c.accumulationSteps, 1); XCTAssertEqual(c.resume, false)
        func failure(_ args: [String]) -> String {
            do { _ = try PretrainConfig(arguments: args); return "no error" } catch { return "\(error)" }
        }
        let ok = ["model.config_path=c.json", "dataset.dataset_path=d.jsonl"]
        XCTAssertTrue(failure(ok + ["training.lr=1"]).contains("unknown key 'training.lr'"))
        XCTAssertTrue(failure(ok + ["training.batch_size=two"]).contains("training.batch_size: 'two' is not an integer"))
        XCTAssertTrue(failure(ok + ["training.batch_size=0"]).contains("training.batch_size"))
        XCTAssertTrue(failure(ok + ["training.shuffle=maybe"]).contains("training.shuffle"))
        XCTAssertTrue(failure(ok + ["training.learning_rate=-1"]).contains("training.learning_rate"))
        XCTAssertTrue(failure(ok + ["training.epochs"]).contains("expected key=value"))
        XCTAssertTrue(failure(ok + ["model.qwen3_model_path=m"]).contains("both set"))
        XCTAssertTrue(failure(["dataset.dataset_path=d.jsonl"]).contains("model.config_path"))
        XCTAssertTrue(failure(["model.config_path=c.json"]).contains("dataset.dataset_path"))
    }

    func testCorpusErrorsNameFileAndLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("bad.jsonl")
        for (content, expected) in [("{\"text\":\"a\"}\n\n[1]\n", ":3: expected a JSON object"),
                                    ("{\"text\":\"a\"}\n{\"txt\":\"b\"}\n", ":2: missing string field \"text\""),
                                    ("{\"text\":\"a\"\n", ":1: not valid JSON")] {
            try content.write(to: url, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try PretrainData.load(jsonl: url, maxSeqLen: 8, eosId: 0, tokenize: Self.bytes)) {
                XCTAssertTrue("\($0)".contains(url.path + expected), "\($0)")
            }
        }
        // Tokenised without specials, end-of-text appended, truncated to max_seq_len.
        try "{\"text\":\"abc\"}\n{\"text\":\"abcdefghijk\"}\n".write(to: url, atomically: true, encoding: .utf8)
        let data = try PretrainData.load(jsonl: url, maxSeqLen: 6, eosId: 63, tokenize: Self.bytes)
        XCTAssertEqual(data.sequences, [Self.bytes("abc") + [63], Array(Self.bytes("abcdefghijk").prefix(6))])
        let batch = data.batch([0, 1])
        XCTAssertEqual(batch.inputs[0], Self.bytes("abc") + [63, 63, 63])
        XCTAssertEqual(batch.targets[0], Array(Self.bytes("abc").dropFirst()) + [63, -100, -100, -100])
        XCTAssertEqual(batch.realTokens, 10)
    }

    /// From scratch (config.json), shuffled, two epochs: a run stopped at step 3 and resumed writes the
    /// same metrics.jsonl losses, bit for bit, as the run never stopped; --save-model exports a
    /// checkpoint that our loader reads back to identical logits.
    func testFromScratchSplitRunEqualsWholeRun() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("corpus.jsonl")
        var lines: [String] = []
        for i in 0..<11 {
            let word = String("abcdefgh".dropFirst(i % 5))
            lines.append("{\"text\": \"sample \(i): \(String(repeating: word, count: 1 + i % 3))\"}")
        }
        try lines.joined(separator: "\n").write(to: corpus, atomically: true, encoding: .utf8)
        let configJSON = PretrainQwen3Tests.directory.appendingPathComponent("config.json").path
        let base = ["model.config_path=\(configJSON)", "dataset.dataset_path=\(corpus.path)", "model.max_seq_len=16",
                    "training.batch_size=2", "training.accumulation_steps=2", "training.epochs=2",
                    "training.learning_rate=1e-2", "training.seed=3", "logging.save_interval=2"]
        let tokenizer = PretrainTokenizer(endOfText: 63, tokenize: Self.bytes)

        let whole = dir.appendingPathComponent("whole")
        let exported = dir.appendingPathComponent("export")
        let (model, metrics) = try PretrainRun.run(try PretrainConfig(arguments: base + ["logging.out_dir=\(whole.path)"]),
                                                   tokenizer: tokenizer, saveModel: exported)
        XCTAssertEqual(metrics.count, 6)  // 11 samples → 6 micro batches → 3 steps per epoch, 2 epochs
        XCTAssertLessThan(metrics.last!.loss, metrics.first!.loss)

        let split = dir.appendingPathComponent("split")
        var progress: [String] = []
        try PretrainRun.run(try PretrainConfig(arguments: base + ["logging.out_dir=\(split.path)", "training.max_steps=3"]),
                            tokenizer: tokenizer) { progress.append($0) }
        XCTAssertEqual(progress.count, 3)
        XCTAssertTrue(progress[0].hasPrefix("step 1/3  loss "), progress[0])
        XCTAssertTrue(FileManager.default.fileExists(atPath: split.appendingPathComponent("checkpoints/checkpoint.safetensors").path))
        try PretrainRun.run(try PretrainConfig(arguments: base + ["logging.out_dir=\(split.path)", "training.resume=true"]),
                            tokenizer: tokenizer)
        XCTAssertEqual(try losses(split), try losses(whole))
        XCTAssertEqual(try losses(whole).count, 6)

        let reloaded = try Qwen3Model.load(directory: exported)
        let ids: [Int32] = [1, 5, 9, 33, 2, 62]
        XCTAssertEqual(reloaded.forward(ids, cache: KVCache(config: reloaded.config, capacity: 6)).array,
                       model.forward(ids, cache: KVCache(config: model.config, capacity: 6)).array)
    }

    static func bytes(_ text: String) -> [Int32] { text.utf8.map { Int32($0) % 63 } }

    func losses(_ out: URL) throws -> [String] {
        try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { String($0.split(separator: ",")[1]) }
    }
}
