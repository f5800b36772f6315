import Compute
import Foundation
import Qwen3
import SafeTensors
import TestSupport
import XCTest

/// `explicitlm logits`, `generate` and `inspect-model` run as a user runs them, on the committed
/// tiny checkpoints: the numbers equal transformers' goldens, and bad input exits non-zero with a
/// message naming what is wrong.
final class Qwen3CommandTests: XCTestCase {
    let variant = "untied-gqa-bf16"
    var model: String { Fixtures.directory(variant).path }

    func testLogitsWritesEveryPositionWithinTolerance() throws {
        let golden = try Fixtures.golden(variant)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("logits-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: out) }
        let ids = golden.inputIds.map(String.init).joined(separator: ",")
        let result = try CommandLineRunner.run(["logits", "--model", model, "--ids", ids, "--out", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let logits = try SafeTensorsFile(url: out).tensor("logits")
        XCTAssertEqual(logits.shape, golden.logits.shape)
        let (worst, _) = maxAbsDifference(logits.data, golden.logits.data, count: logits.count)
        XCTAssertLessThanOrEqual(worst, 1e-4)
    }

    /// `--compute bf16`: on a CPU with AVX-512 BF16 the BF16 model's logits move off float32's (within
    /// the parity test's bound) and a float32 model gets a note that nothing changes; elsewhere the
    /// option is refused by name.
    func testLogitsComputeBF16() throws {
        let golden = try Fixtures.golden(variant)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("logits-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: out) }
        let ids = golden.inputIds.map(String.init).joined(separator: ",")
        let result = try CommandLineRunner.run(["logits", "--model", model, "--compute", "bf16", "--ids", ids, "--out", out.path])
        guard Backend.hostHasBF16Compute else {
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains("--compute bf16 needs a CPU with AVX-512 BF16"), result.stderr)
            return
        }
        XCTAssertEqual(result.status, 0, result.stderr)
        let logits = try SafeTensorsFile(url: out).tensor("logits")
        let (worst, _) = maxAbsDifference(logits.data, golden.logits.data, count: logits.count)
        XCTAssertGreaterThan(worst, 1e-4)
        XCTAssertLessThanOrEqual(worst, 0.15)

        let f32Model = Fixtures.directory("tied-mha-f32").path
        let plain = try CommandLineRunner.run(["logits", "--model", f32Model, "--compute", "bf16", "--ids", "1,2,3", "--out", out.path])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stderr.contains("is float32, so its products stay float32"), plain.stderr)
        let bad = try CommandLineRunner.run(["logits", "--model", model, "--compute", "f16", "--ids", "1", "--out", out.path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--compute"), bad.stderr)
    }

    func testGeneratePrintsTheGreedyIdsOfTransformers() throws {
        let golden = try Fixtures.golden(variant)
        let prompt = golden.prompt.map(String.init).joined(separator: ",")
        let result = try CommandLineRunner.run(["generate", "--model", model, "--ids", prompt, "--max-new-tokens", "32", "--print-ids"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, golden.generated.map(String.init).joined(separator: " ") + "\n")
    }

    /// `--stats`: one JSON line on stderr after the answer, counting what was generated, the answer unchanged.
    func testGenerateStatsPrintsOneJSONLineOnStderr() throws {
        let golden = try Fixtures.golden(variant)
        let prompt = golden.prompt.map(String.init).joined(separator: ",")
        let result = try CommandLineRunner.run(["generate", "--model", model, "--ids", prompt, "--max-new-tokens", "32", "--print-ids", "--stats"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, golden.generated.map(String.init).joined(separator: " ") + "\n")
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.stderr)
        let stats = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(Set(stats.keys), ["prompt_tokens", "prefill_tokens_per_s", "generated_tokens", "decode_tokens_per_s", "load_s"])
        XCTAssertEqual(stats["prompt_tokens"] as? Int, golden.prompt.count)
        XCTAssertEqual(stats["generated_tokens"] as? Int, golden.generated.count)
        for key in ["prefill_tokens_per_s", "decode_tokens_per_s", "load_s"] {
            let value = try XCTUnwrap((stats[key] as? NSNumber)?.doubleValue, key)
            XCTAssertGreaterThan(value, 0, key)
            XCTAssertTrue(value.isFinite, key)
        }
    }

    func testSampledGenerationRepeatsWithItsSeed() throws {
        let args = ["generate", "--model", model, "--ids", "11,42,77", "--max-new-tokens", "12",
                    "--temperature", "1.3", "--top-k", "40", "--top-p", "0.9", "--print-ids"]
        let a = try CommandLineRunner.run(args + ["--seed", "5"]), b = try CommandLineRunner.run(args + ["--seed", "5"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertEqual(a.stdout.split(separator: " ").count, 12)
    }

    func testInspectModelDescribesTheCheckpoint() throws {
        let result = try CommandLineRunner.run(["inspect-model", "--model", model])
        XCTAssertEqual(result.status, 0, result.stderr)
        let config = try Qwen3Config.load(from: Fixtures.directory(variant).appendingPathComponent("config.json"))
        XCTAssertTrue(result.stdout.contains("parameters: \(config.parameterCount)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("weight dtype: BF16"), result.stdout)
        XCTAssertTrue(result.stdout.contains("\"head_dim\" : 24"), result.stdout)
    }

    func testBadInputExitsNonZeroNamingTheProblem() throws {
        let cases: [([String], String)] = [
            (["logits", "--model", model, "--ids", "1,x", "--out", "/tmp/never.safetensors"], "'x' is not a token id"),
            (["generate", "--model", model, "--ids", "1,9999", "--print-ids"], "token id 9999 is outside the vocabulary of 288"),
            (["generate", "--model", "/nonexistent/model", "--ids", "1"], "/nonexistent/model"),
            (["generate", "--model", model, "--ids", "1", "--top-p", "0"], "--top-p"),
            (["generate", "--model", model], "exactly one of --ids and --prompt"),
            (["inspect-model", "--model", Fixtures.directory(variant).deletingLastPathComponent().path], "config.json"),
        ]
        for (arguments, expected) in cases {
            let result = try CommandLineRunner.run(arguments)
            XCTAssertNotEqual(result.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/never.safetensors"))
    }

    /// `--out` naming a FIFO or a symbolic link is refused before any work, and the node stays as it was.
    func testLogitsRefusesAnOutputThatIsNotARegularFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("logits-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("fifo"), link = dir.appendingPathComponent("link")
        let victim = dir.appendingPathComponent("victim")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        try Data("keep".utf8).write(to: victim)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: victim)
        for (out, what) in [(fifo, "is a FIFO"), (link, "is a symbolic link")] {
            let result = try CommandLineRunner.run(["logits", "--model", model, "--ids", "1,2", "--out", out.path])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains("\(out.path): \(what), not a regular file"), result.stderr)
        }
        var st = stat()
        XCTAssertTrue(lstat(fifo.path, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO, "the FIFO was replaced")
        XCTAssertEqual(try String(contentsOf: victim, encoding: .utf8), "keep")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["fifo", "link", "victim"])
    }
}
