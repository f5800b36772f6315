import Compute
import Foundation
import Memory
import Qwen3
import TestSupport
import XCTest

/// `eval` and `label` as a user runs them, on a bank of capitals built through the command line
/// with a tiny Qwen3 (which is also the embedder) and a byte-level tokenizer.
final class EvalCommandTests: TemporaryDirectoryTestCase {
    func run(_ arguments: [String], _ file: StaticString = #filePath, line: UInt = #line) throws -> CommandLineRunner.Result {
        let result = try CommandLineRunner.run(arguments)
        XCTAssertEqual(result.status, 0, "\(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result
    }

    static let capitals = [("Peru", "Lima"), ("Austria", "Vienna"), ("Chile", "Santiago"), ("Kenya", "Nairobi"), ("Japan", "Tokyo")]

    /// The model, a bank of the capitals (uuids u0…u4) and memory weights whose o_proj is random.
    func world() throws -> (model: URL, bank: String, checkpoint: String) {
        let model = try HostileFiles.model(in: work, name: "m")
        let kb = work.appendingPathComponent("kb.jsonl")
        try Self.capitals.enumerated().map { i, f in
            #"{"sentence": "The capital of \#(f.0) is \#(f.1).", "uuid": "u\#(i)", "subject": "\#(f.0)", "predicate": "capital", "object": "\#(f.1)"}"# + "\n"
        }.joined().write(to: kb, atomically: true, encoding: .utf8)
        let bank = work.appendingPathComponent("bank").path
        _ = try run(["build-memory", "--model", model.path, "--knowledge", kb.path, "--out", bank])
        var config = MemoryConfig()
        config.fusionHeads = 2; config.fusionHeadDim = 8; config.fusionRank = 0
        let memory = try MemoryModel(config: config, backbone: try Qwen3Model.load(directory: model))
        memory.initialize(seed: 1)
        var rng = SeededGenerator(seed: 2)
        for p in memory.parameters where p.name.contains("o_proj") { for i in 0..<p.value.count { p.value.data[i] = Float(rng.normal()) } }
        let checkpoint = work.appendingPathComponent("memory.safetensors")
        try memory.save(to: checkpoint)
        return (model, bank, checkpoint.path)
    }

    func conversation(_ question: String, _ answer: String, uuid: String?) -> String {
        let fact = uuid.map { #", "fact_uuid": "\#($0)""# } ?? ""
        return #"{"conversations": [{"role": "user", "content": "\#(question)"}, {"role": "assistant", "content": "\#(answer)"}]\#(fact)}"# + "\n"
    }

    func testEvalPrintsTheReportAsJSONAndAsATable() throws {
        let (model, bank, checkpoint) = try world()
        let data = work.appendingPathComponent("data.jsonl")
        try (conversation("What is the capital of Kenya?", "Nairobi", uuid: "u3") + conversation("What is the capital of Peru?", "Lima", uuid: "u0")
            + conversation("What is the capital of Japan?", "Tokyo", uuid: "u4") + conversation("Say hello.", "Hello", uuid: nil))
            .write(to: data, atomically: true, encoding: .utf8)
        let base = ["eval", "--model", model.path, "--memory", bank, "--checkpoint", checkpoint, "--data", data.path, "--max-new-tokens", "3"]

        let report = try json(try run(base + ["--json", "--items", "--oracle"]).stdout)
        XCTAssertEqual(report["items"] as? Int, 4)
        XCTAssertEqual(report["gold_items"] as? Int, 3)
        XCTAssertEqual((report["memory_off"] as? [String: Any])?["items"] as? Int, 4)
        XCTAssertEqual((report["oracle"] as? [String: Any])?["items"] as? Int, 3)
        // Each question names its country: BM25 ranks the gold row first, and the argmax reads it.
        let retrieval = try XCTUnwrap(report["retrieval"] as? [String: Any])
        XCTAssertEqual(retrieval["recall"] as? Double, 1)
        XCTAssertEqual(retrieval["selection"] as? Double, 1)
        let metrics = try XCTUnwrap(report["metrics"] as? [String: Any])
        XCTAssertEqual(metrics["eval_recall"] as? Double, 1)
        XCTAssertNotNil(metrics["eval_accuracy_memory_off"] as? Double)
        XCTAssertEqual(((report["predicates"] as? [String: Any])?["capital"] as? [String: Any])?["items"] as? Int, 3)
        let outcomes = try XCTUnwrap(report["outcomes"] as? [[String: Any]])
        XCTAssertEqual(outcomes.map { $0["gold_row"] as? Int }, [3, 0, 4, nil])
        let layers = try XCTUnwrap((outcomes[0]["memory_on"] as? [String: Any])?["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.map { $0["layer"] as? Int }, [0, 1])
        XCTAssertEqual(layers.map { $0["selected"] as? Int }, [3, 3])
        XCTAssertEqual(outcomes.map { $0["source"] as? String }, (1...4).map { "\(data.path):\($0)" })
        let withoutOracle = try json(try run(base + ["--json", "--limit", "2"]).stdout)
        XCTAssertEqual(withoutOracle["items"] as? Int, 2)
        XCTAssertNil(withoutOracle["oracle"])
        XCTAssertNil(withoutOracle["outcomes"])

        let table = try run(base + ["--oracle"]).stdout
        for text in ["4 items (3 with a gold row in the bank, 0 multiple choice)", "startswith", "exact", "contains", "recall@C", "selection",
                     "memory off", "memory on", "oracle", "per predicate"] {
            XCTAssertTrue(table.contains(text), "'\(text)' missing from:\n\(table)")
        }
        let onLine = try XCTUnwrap(table.split(separator: "\n").first { $0.hasPrefix("memory on") })
        XCTAssertEqual(onLine.split(separator: " ").suffix(3), ["1.000", "1.000", "0.0"], "recall@C, selection, prompt tokens added: \(onLine)")
        XCTAssertTrue(table.split(separator: "\n").contains { $0.hasPrefix("capital") && $0.contains(" 3 ") }, table)

        // Multiple choice from an OMCQ array: the options are scored.
        let choices = work.appendingPathComponent("omcq.json")
        try #"[{"question": "Capital of Chile?", "options": "A:Lima,B:Santiago,C:Tokyo", "correct_answer": "B:Santiago", "uuid": "u2"}]"#
            .write(to: choices, atomically: true, encoding: .utf8)
        let mc = try json(try run(base.dropLast(4) + ["--data", choices.path, "--json", "--items"]).stdout)
        XCTAssertEqual((mc["memory_on"] as? [String: Any])?["mc_items"] as? Int, 1)
        let scores = try XCTUnwrap(((mc["outcomes"] as? [[String: Any]])?[0]["memory_on"] as? [String: Any])?["option_log_likelihoods"] as? [Double])
        XCTAssertEqual(scores.count, 3)
        XCTAssertTrue(scores.allSatisfy { $0 < 0 })
    }

    func testEvalNamesBadItemsOrSkipsThem() throws {
        let (model, bank, checkpoint) = try world()
        let data = work.appendingPathComponent("data.jsonl")
        try (conversation("What is the capital of Peru?", "Lima", uuid: "u0") + "{\"conversations\": [}\n"
            + #"{"conversations": [{"role": "assistant", "content": "x"}]}"# + "\n").write(to: data, atomically: true, encoding: .utf8)
        let base = ["eval", "--model", model.path, "--memory", bank, "--checkpoint", checkpoint, "--data", data.path, "--max-new-tokens", "2", "--json"]
        try refused(base, "\(data.path):2: not valid JSON")
        try refused(base, "\(data.path):3: no user turn")
        let skipped = try run(base + ["--skip-invalid"])
        XCTAssertTrue(skipped.stderr.contains("skipped 2 invalid item(s)"), skipped.stderr)
        XCTAssertEqual(try json(skipped.stdout)["items"] as? Int, 1)
        try refused(["eval", "--model", model.path, "--memory", bank, "--checkpoint", checkpoint, "--data", data.path, "--items"], "--items goes with --json")
    }

    /// `label`: the gold row with score 1 when fact_uuid names one, else the embedder's exact top-k by
    /// cosine between the query and the rows' keys (here recomputed from `embed`).
    func testLabelGivesTheGoldRowOrTheExactTopK() throws {
        let (model, bank, _) = try world()
        let input = work.appendingPathComponent("conversations.jsonl")
        let open = ["Tell me about Kenya and its capital", "Which city is far from Tokyo?"]
        try (conversation("What is the capital of Austria?", "Vienna", uuid: "u1") + conversation(open[0], "Nairobi", uuid: nil)
            + conversation(open[1], "Lima", uuid: "not-in-the-bank") + "{\"conversations\": 3}\n")
            .write(to: input, atomically: true, encoding: .utf8)
        let output = work.appendingPathComponent("labels.jsonl")
        let base = ["label", "--memory", bank, "--input", input.path, "--output", output.path, "--top-k", "3"]
        try refused(base, "\(input.path):4:")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "a failed run writes nothing")

        func embedding(_ text: String) throws -> [Double] {
            try XCTUnwrap(try json(try run(["embed", "--model", model.path, "--text", text]).stdout)["embedding"] as? [Double])
        }
        func cosine(_ a: [Double], _ b: [Double]) -> Double {
            zip(a, b).map(*).reduce(0, +) / (a.map { $0 * $0 }.reduce(0, +).squareRoot() * b.map { $0 * $0 }.reduce(0, +).squareRoot())
        }
        let keys = try Self.capitals.map { try embedding("\($0.0) capital") }  // MemoryKeys.keyText: subject and predicate
        // Stored keys are F16, so their cosines may differ from F32 ones by about 1e-3; a fresh embedder's do not.
        for (extra, tolerance) in [([String](), 3e-3), (["--embedder", model.path], 1e-5)] {
            let result = try run(base + ["--skip-invalid"] + extra)
            XCTAssertTrue(result.stderr.contains("skipped 1 invalid line(s)"), result.stderr)
            let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").map { try json(String($0)) }
            XCTAssertEqual(lines.count, 3)
            XCTAssertEqual(lines[0]["query"] as? String, "What is the capital of Austria?")
            XCTAssertEqual(lines[0]["target_indices"] as? [Int], [1])
            XCTAssertEqual(lines[0]["target_scores"] as? [Double], [1])
            for (line, query) in zip(lines.dropFirst(), open) {
                XCTAssertEqual(line["query"] as? String, query)
                let rows = try XCTUnwrap(line["target_indices"] as? [Int]), scores = try XCTUnwrap(line["target_scores"] as? [Double])
                let q = try embedding(query)
                let expected = keys.map { cosine(q, $0) }
                XCTAssertEqual(rows.count, 3)
                XCTAssertEqual(scores, scores.sorted(by: >), "best first")
                for (row, score) in zip(rows, scores) { XCTAssertEqual(score, expected[row], accuracy: tolerance, "row \(row)") }
                for row in 0..<5 where !rows.contains(row) {
                    XCTAssertLessThanOrEqual(expected[row], scores.last! + tolerance, "row \(row) belongs in the top 3 of '\(query)'")
                }
            }
        }
    }
}
