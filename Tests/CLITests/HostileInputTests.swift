import Foundation
import TestSupport
import XCTest

/// Every malformed file and value that once crashed `explicitlm` (issue 8), run as a user runs it:
/// each must end with a clear message on stderr and a non-zero exit — no signal, within seconds,
/// and inside an address-space limit far below what the hostile sizes ask for.
final class HostileInputTests: TemporaryDirectoryTestCase {
    /// Runs the command and checks the way it failed.
    func assertRefused(_ arguments: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let started = Date()
        let result = try CommandLineRunner.run(arguments, memoryLimitBytes: 3 << 30)
        let label = arguments.joined(separator: " ")
        XCTAssertFalse(result.signaled, "\(label): killed by signal \(result.status)\n\(result.stderr)", file: file, line: line)
        XCTAssertNotEqual(result.status, 0, "\(label): exit 0", file: file, line: line)
        XCTAssertTrue(result.stderr.contains(expected), "\(label): expected '\(expected)' in:\n\(result.stderr)", file: file, line: line)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "\(label): too slow", file: file, line: line)
    }

    // MARK: tokenizer.json

    func testAddedTokenIdsOutsideTheIdRangeAreRefused() throws {
        for id in ["2147483648", "4294867296", "50000000", "1099511627776", "-1", "1.5"] {
            let dir = try HostileFiles.tokenizer(in: work, name: "tok-\(id)", addedId: id)
            try assertRefused(["tokenize", "--tokenizer", dir.path, "--text", "hi"], "added_tokens[1].id")
            try assertRefused(["detokenize", "--tokenizer", dir.path, "--ids", "1"], "is not an integer in 0...16777215")
        }
        // Ids far beyond the tokens they name: the tables would be sized by the largest.
        let sparse = try HostileFiles.tokenizer(in: work, name: "tok-sparse", addedId: "10000000")
        try assertRefused(["tokenize", "--tokenizer", sparse.path, "--text", "hi"], "ids unused")
    }

    // MARK: generation length and context

    func testGenerationLongerThanTheContextIsRefused() throws {
        let model = try HostileFiles.model(in: work, name: "m")
        for n in ["4611686018427387904", "1152921504606846976", "1000000000"] {
            try assertRefused(["generate", "--model", model.path, "--ids", "1,2,3", "--max-new-tokens", n, "--print-ids"],
                              "max_position_embeddings 512 leaves room for 509")
        }
        let short = try HostileFiles.model(in: work, name: "short", config: ["max_position_embeddings": "4"])
        try assertRefused(["logits", "--model", short.path, "--ids", "1,2,3,4,5", "--out", work.appendingPathComponent("l.safetensors").path],
                          "--ids has 5 tokens, more than the model's max_position_embeddings 4")
        try assertRefused(["generate", "--model", short.path, "--ids", "1,2,3,4,5", "--print-ids"], "the prompt has 5 tokens")
        for t in ["inf", "nan", "1e39"] {
            try assertRefused(["generate", "--model", model.path, "--ids", "1", "--temperature", t], "--temperature must be a finite number ≥ 0")
        }
    }

    // MARK: config.json

    func testAbsurdConfigValuesAreRefusedBeforeAnythingIsAllocated() throws {
        let cases: [(key: String, value: String, command: String, expected: String)] = [
            ("vocab_size", "576460752303423488", "pretrain", "vocab_size is 576460752303423488: it must be in 1...16777216"),
            ("num_hidden_layers", "4611686018427387904", "inspect-model", "num_hidden_layers is 4611686018427387904"),
            ("num_hidden_layers", "1000000000", "logits", "num_hidden_layers is 1000000000: it must be in 1...1024"),
            ("num_hidden_layers", "10000000", "pretrain", "num_hidden_layers is 10000000"),
            ("hidden_size", "1099511627776", "inspect-model", "hidden_size is 1099511627776: it must be in 1...65536"),
            ("rms_norm_eps", "-1e-6", "logits", "rms_norm_eps is -1e-06: it must be in (0, 1)"),
            ("rope_parameters", #"{"rope_type": "default", "rope_theta": 0}"#, "generate", "rope_theta is 0.0: it must be a positive finite number"),
            ("max_position_embeddings", "0", "logits", "max_position_embeddings is 0: it must be in 1...16777216"),
            ("vocab_size", "\"big\"", "inspect-model", "config.json: key 'vocab_size': \"big\" is not an integer"),
            ("hidden_size", "1e400", "inspect-model", "config.json: key 'hidden_size': 1e400 is not an integer"),
            ("hidden_size", "1.5", "inspect-model", "config.json: key 'hidden_size': 1.5 is not an integer"),
            ("rms_norm_eps", "\"small\"", "inspect-model", "config.json: key 'rms_norm_eps': \"small\" is not a number"),
        ]
        for (i, c) in cases.enumerated() {
            let model = try HostileFiles.model(in: work, name: "c\(i)", config: [c.key: c.value])
            try assertRefused(arguments(c.command, model: model), c.expected)
        }
        // The older spelling of the rotary base.
        let legacy = try HostileFiles.model(in: work, name: "legacy", config: ["rope_parameters": "null", "rope_theta": "-5"])
        try assertRefused(["inspect-model", "--model", legacy.path], "rope_theta is -5.0")
        // A syntax error names its line and column.
        let broken = try HostileFiles.model(in: work, name: "syntax")
        try "{\n  \"vocab_size\": 320,\n  \"hidden_size\": ,\n}".write(to: broken.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        try assertRefused(["inspect-model", "--model", broken.path], "config.json: not valid JSON at line 3, column 18")
    }

    /// The command line that reads the model's config.json for `command`.
    func arguments(_ command: String, model: URL) -> [String] {
        switch command {
        case "pretrain":
            let corpus = work.appendingPathComponent("corpus.jsonl")
            try? "{\"text\": \"hello\"}\n".write(to: corpus, atomically: true, encoding: .utf8)
            return ["pretrain", "model.config_path=\(model.appendingPathComponent("config.json").path)",
                    "model.tokenizer_path=\(model.path)", "dataset.dataset_path=\(corpus.path)",
                    "logging.out_dir=\(work.appendingPathComponent("out-\(UUID().uuidString)").path)"]
        case "logits": return ["logits", "--model", model.path, "--ids", "1,2", "--out", work.appendingPathComponent("l.safetensors").path]
        case "generate": return ["generate", "--model", model.path, "--ids", "1,2", "--print-ids"]
        default: return [command, "--model", model.path]
        }
    }

    // MARK: training checkpoints

    func testResumeRefusesADataOrderThatIsNotAPermutation() throws {
        let model = try HostileFiles.model(in: work, name: "m")
        let corpus = work.appendingPathComponent("corpus.jsonl")
        try (0..<6).map { "{\"text\": \"sample \($0)\"}\n" }.joined().write(to: corpus, atomically: true, encoding: .utf8)
        let out = work.appendingPathComponent("run")
        let run = ["pretrain", "model.config_path=\(model.appendingPathComponent("config.json").path)",
                   "model.tokenizer_path=\(model.path)", "dataset.dataset_path=\(corpus.path)", "training.batch_size=2",
                   "training.max_steps=1", "logging.out_dir=\(out.path)"]
        let first = try CommandLineRunner.run(run)
        XCTAssertEqual(first.status, 0, first.stderr)
        let checkpoint = out.appendingPathComponent("checkpoints/checkpoint.safetensors")
        let original = try Data(contentsOf: checkpoint)
        for (order, index, expected) in [([0, 1, 2, 3, 4, 99], nil, "data.order[5] is 99: sample indices must be in 0..<6"),
                                         ([0, -7, 2, 3, 4, 5], nil, "data.order[1] is -7"),
                                         ([0, 1, 1, 3, 4, 5], nil, "data.order[2] repeats sample 1"),
                                         ([0, 1, 2, 3, 4], nil, "data.order has 5 entries, the dataset has 6 samples"),
                                         ([0, 1, 2, 3, 4, 5], "7", "\"index\" is 7, past the end of data.order (6 entries)")] {
            try HostileFiles.rewriteTrainingCheckpoint(original, order: order, index: index, to: checkpoint)
            try assertRefused(run + ["training.resume=true", "training.max_steps=2"], expected)
        }
    }

    // MARK: sentence-transformers layout

    func testPoolingPathOutsideTheModelIsRefused() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("EncodersTests/Fixtures/tiny-bert")
        let model = work.appendingPathComponent("bert")
        try FileManager.default.copyItem(at: source, to: model)
        for path in ["../../elsewhere", "/etc", "1_Pooling/../../x"] {
            let modules = #"[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},"#
                + #"{"idx": 1, "name": "1", "path": "\#(path)", "type": "sentence_transformers.models.Pooling"}]"#
            try modules.write(to: model.appendingPathComponent("modules.json"), atomically: true, encoding: .utf8)
            try assertRefused(["embed", "--model", model.path, "--text", "hi"], "module 1 path '\(path)' is not a folder inside the model directory")
        }
    }
}
