import Foundation
import TestSupport
import XCTest

/// The main job's fast version (issue 11 item 8): `explicitlm demo` on a slice of the bundled demo
/// data with the committed backbone, short training. Memory on must beat memory off by a clear margin
/// on the held-out entities' questions, and edited facts must change the answers.
final class DemoCommandTests: TemporaryDirectoryTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let demo = root.appendingPathComponent("data/demo")

    /// Every `step`-th line of a JSON Lines file (a spread of predicates, entities and templates).
    func lines(_ name: String, every step: Int = 1, first: Int = .max) throws -> [String] {
        let text = try String(contentsOf: Self.demo.appendingPathComponent(name), encoding: .utf8)
        let all = text.split(separator: "\n").map(String.init)
        return Array(all.enumerated().filter { $0.offset % step == 0 }.map(\.element).prefix(first))
    }

    func write(_ lines: [String], _ name: String, in directory: URL) throws {
        try (lines.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func testMissingDataAndAForeignOutputDirectoryAreRefusedByName() throws {
        let empty = work.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try refused(["demo", "--data", empty.path, "--out", work.appendingPathComponent("o").path], "\(empty.path)/knowledge.jsonl: missing")

        let foreign = work.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: foreign.appendingPathComponent("training"), withIntermediateDirectories: true)
        try "mine".write(to: foreign.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        try refused(["demo", "--data", Self.demo.path, "--out", foreign.path], "holds other files")
        XCTAssertTrue(FileManager.default.fileExists(atPath: foreign.appendingPathComponent("training").path), "nothing of it removed")
    }

    func testTheMainJobOnASliceReadsHeldOutFactsAndFollowsEdits() throws {
        let data = work.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let evaluation = try lines("questions_eval.jsonl", every: 8)
        let unseen = try lines("questions_eval_unseen.jsonl", every: 8)
        let training = try lines("questions_memory_train_balanced.jsonl", first: 1200)
        let known = try lines("questions_known.jsonl", every: 4)
        // The bank: every country-level fact, the facts the questions ask about, and 2,000 other cities.
        var asked = Set<String>()
        for line in evaluation + unseen + training + known {
            let object = try json(line)
            asked.insert(try XCTUnwrap(object["fact_uuid"] as? String))
        }
        var cities = 0
        let knowledge = try lines("knowledge.jsonl").filter { line in
            let fact = try json(line)
            if fact["predicate"] as? String != "country" || asked.contains(fact["uuid"] as? String ?? "") { return true }
            cities += 1
            return cities <= 2000
        }
        try write(knowledge, "knowledge.jsonl", in: data)
        try write(training, "questions_memory_train_balanced.jsonl", in: data)
        try write(evaluation, "questions_eval.jsonl", in: data)
        try write(unseen, "questions_eval_unseen.jsonl", in: data)
        try write(known, "questions_known.jsonl", in: data)
        let out = work.appendingPathComponent("out")
        let result = try CommandLineRunner.run([
            "demo", "--data", data.path, "--backbone", Self.demo.appendingPathComponent("backbone").path, "--out", out.path,
            "--config", Self.demo.appendingPathComponent("memory_training.yaml").path, "--edits", "20", "training.epochs=3",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        print(result.stdout)

        let summary = try json(String(contentsOf: out.appendingPathComponent("summary.json"), encoding: .utf8))
        let lexical = try XCTUnwrap((summary["retrievers"] as? [String: Any])?["lexical"] as? [String: Any])
        let off = try XCTUnwrap(lexical["accuracy_memory_off"] as? Double), on = try XCTUnwrap(lexical["accuracy_memory_on"] as? Double)
        XCTAssertEqual(lexical["items"] as? Int, evaluation.count)
        XCTAssertGreaterThan(on - off, 0.25, "memory on \(on) vs off \(off) on held-out entities")
        XCTAssertGreaterThan(try XCTUnwrap(lexical["recall"] as? Double), 0.95)
        XCTAssertEqual(summary["edited_facts"] as? Int, 20)
        XCTAssertGreaterThan(try XCTUnwrap(lexical["edit_success"] as? Double), 0.5, "edited facts must change the answers")
        XCTAssertGreaterThan(try XCTUnwrap(lexical["locality"] as? Double), 0.9)
        // The dense retriever after its router stage is measured on the same questions (its recall is low on held-out entities).
        let dense = try XCTUnwrap((summary["retrievers"] as? [String: Any])?["dense"] as? [String: Any])
        XCTAssertEqual(dense["items"] as? Int, evaluation.count)
        XCTAssertNotNil(dense["recall"] as? Double)

        // The stable outputs: eval.jsonl matches the items, the memory opens with the bank.
        let eval = try String(contentsOf: out.appendingPathComponent("eval.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(eval.count, evaluation.count)
        let first = try json(String(eval[0]))
        for key in ["question", "answer", "fact_uuid", "row", "predicate", "subject"] { XCTAssertNotNil(first[key], key) }
        for name in ["report.md", "accuracy.svg", "training.svg", "memory.safetensors", "backbone/config.json", "bank/bank.sqlite"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), name)
        }
        // The chart: a bar per condition for each predicate and for all questions, as tall as its accuracy.
        let chart = try XCTUnwrap(SVGDocument.parse(try Data(contentsOf: out.appendingPathComponent("accuracy.svg"))))
        let bars = chart.all("rect", "class", "bar")
        XCTAssertEqual(Set(bars.compactMap { $0.attributes["data-series"] }), ["memory off", "memory on", "gold row", "RAG"])
        let all = try XCTUnwrap(bars.first { $0.attributes["data-series"] == "memory on" && $0.attributes["data-category"] == "all" })
        XCTAssertEqual(Double(all.attributes["height"] ?? "") ?? -1, on * 260, accuracy: 0.1, "260 px is accuracy 1")
        let history = try CommandLineRunner.run(["memory", "history", out.appendingPathComponent("bank-edited").path])
        XCTAssertEqual(history.status, 0, history.stderr)
        XCTAssertEqual(history.stdout.split(separator: "\n").count, 20, "one logged edit per edited fact")
        let question = try XCTUnwrap(first["question"] as? String)
        let provenance = try CommandLineRunner.run([
            "generate", "--model", out.appendingPathComponent("backbone").path, "--memory", out.appendingPathComponent("bank").path,
            "--checkpoint", out.appendingPathComponent("memory.safetensors").path, "--chat", "--prompt", question,
            "--show-memory", "--max-new-tokens", "8",
        ])
        XCTAssertEqual(provenance.status, 0, provenance.stderr)
        XCTAssertTrue(provenance.stdout.contains("memory: row"), provenance.stdout)
    }
}
