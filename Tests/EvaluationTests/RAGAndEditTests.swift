import Compute
import Foundation
import Memory
import Qwen3
import TestSupport
import Tokenizers
import Training
import XCTest

/// Retrieval-augmented prompting and the edit evaluation, against direct computations on the tiny
/// world of `EvaluationWorld` (rows 0 Peru capital Lima, 1 Chile capital Santiago, 2 Kenya currency
/// shilling, 3 Japan currency yen).
final class RAGAndEditTests: TemporaryDirectoryTestCase {
    func testRAGIsThePlainBackboneWithTheTopRowBeforeTheQuestion() throws {
        let world = try EvaluationWorld(in: work)
        let items = [try EvaluationWorld.item("What is the capital of Peru?", uuid: "peru"),
                     try EvaluationWorld.item("Japan currency?", answer: "yen", uuid: "japan")]
        let report = try world.evaluator(.init(maxNewTokens: 6, memoryOff: true, rag: true)).evaluate(items)
        var changed = 0
        for (item, outcome) in zip(items, report.outcomes) {
            let top = try XCTUnwrap(world.bank.lexical.search(item.question, top: 1).first)
            let rag = try XCTUnwrap(outcome.rag)
            XCTAssertEqual(rag.row, top.row)
            // The same conversation with the row's text on a line before the question, answered greedily.
            let text = try XCTUnwrap(try world.bank.row(top.row)).text
            let augmented = try EvaluationWorld.item(text + "\n" + item.question, answer: item.answer, uuid: item.factUUID)
            let (ids, _) = try world.input(augmented)
            XCTAssertEqual(rag.answer.ids, try world.greedy(ids, context: nil, maxNewTokens: 6), item.question)
            XCTAssertEqual(rag.addedPromptTokens, ids.count - (try world.input(item)).ids.count)
            XCTAssertGreaterThan(rag.addedPromptTokens, text.utf8.count - 1, "a byte-level tokenizer: at least a token per byte")
            if rag.answer.ids != outcome.memoryOff?.ids { changed += 1 }
        }
        XCTAssertGreaterThan(changed, 0, "the fact in the prompt changes some answer, or the comparison proves little")
        let s = report.overall
        XCTAssertEqual(s.rag?.items, 2)
        XCTAssertEqual(s.ragPromptTokensPerItem, Double(report.outcomes.map { $0.rag!.addedPromptTokens }.reduce(0, +)) / 2)
        XCTAssertEqual(report.metrics["eval_rag_prompt_tokens"], s.ragPromptTokensPerItem)
        XCTAssertNil(try world.evaluator(.init(maxNewTokens: 2)).evaluate(items).overall.rag, "only when asked")
    }

    func testEditsChangeTheBankThroughItsEditPathAndAreMeasuredAgainstTheNewObject() throws {
        let world = try EvaluationWorld(in: work)
        let items = [try EvaluationWorld.item("What is the capital of Peru?", uuid: "peru"),
                     try EvaluationWorld.item("Capital of Chile?", answer: "Santiago", uuid: "chile"),
                     try EvaluationWorld.item("Japan currency?", answer: "yen", uuid: "japan"),
                     try EvaluationWorld.item("Tell me a story", answer: "Once", uuid: nil)]
        let plan = try EditEvaluation.plan(items: items, bank: world.bank, count: 2, seed: 3)
        XCTAssertEqual(plan.count, 2)
        XCTAssertEqual(Set(plan.map(\.uuid)).count, 2, "distinct facts")
        for edit in plan {
            let row = try XCTUnwrap(try world.bank.row(edit.row))
            XCTAssertEqual(row.uuid, edit.uuid)
            XCTAssertEqual(edit.oldObject, row.object)
            XCTAssertNotEqual(edit.newObject, row.object)
            // Another object of the same predicate from the bank.
            XCTAssertTrue(EvaluationWorld.facts.contains { $0.1 == row.predicate && $0.2 == edit.newObject }, edit.newObject)
            XCTAssertEqual(edit.newText, row.text.replacingOccurrences(of: row.object, with: edit.newObject))
        }
        XCTAssertEqual(try EditEvaluation.plan(items: items, bank: world.bank, count: 2, seed: 3), plan, "seeded")
        XCTAssertEqual(try EditEvaluation.plan(items: items, bank: world.bank, count: 9, seed: 3).count, 3, "the story names no fact")

        let before = try world.evaluator(.init(maxNewTokens: 6, memoryOff: false)).evaluate(items)
        try EditEvaluation.apply(plan, to: world.bank)
        XCTAssertEqual(try world.bank.history(row: nil).count, 2, "one logged edit per fact")
        for edit in plan {
            let row = try XCTUnwrap(try world.bank.row(edit.row))
            XCTAssertEqual(row.object, edit.newObject)
            XCTAssertEqual(row.text, edit.newText)
            XCTAssertEqual(world.bank.lexical.search(edit.newText, top: 1).first?.row, edit.row, "BM25 reads the new text")
        }
        let after = try world.evaluator(.init(maxNewTokens: 6, memoryOff: false)).evaluate(items)
        let summary = EditEvaluation.measure(before: before, after: after, edits: plan)
        var expected = EditCounts()
        let edited = Dictionary(uniqueKeysWithValues: plan.map { ($0.uuid, $0) })
        for (old, new) in zip(before.outcomes, after.outcomes) {
            if let uuid = new.item.factUUID, let edit = edited[uuid] {
                expected.edited += 1
                if new.memoryOn.answer.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(edit.newObject) { expected.followed += 1 }
            } else {
                expected.unedited += 1
                if new.memoryOn.answer == old.memoryOn.answer { expected.unchanged += 1 }
            }
        }
        XCTAssertEqual(summary.memory, expected)
        XCTAssertEqual(summary.memory.edited, 2)
        XCTAssertEqual(summary.memory.unedited, 2)
        XCTAssertEqual(summary.rag, EditCounts(), "RAG was not asked")
    }

    /// measure on made-up answers: every count is known.
    func testEditSuccessAndLocalityCounts() throws {
        func outcome(_ question: String, _ answer: String, uuid: String?, memory: String) throws -> ItemOutcome {
            let mode = ModeOutcome(answer: memory, ids: [], judgement: AnswerJudgement(generated: memory, gold: answer), optionLogLikelihoods: [], layers: [])
            return ItemOutcome(item: try EvaluationWorld.item(question, answer: answer, uuid: uuid), goldRow: nil, predicate: nil,
                               memoryOff: nil, memoryOn: mode, oracle: nil)
        }
        let edit = FactEdit(row: 0, uuid: "peru", predicate: "capital", oldObject: "Lima", newObject: "Quito", newText: "Peru capital Quito")
        let before = EvaluationReport(outcomes: [
            try outcome("a", "Lima", uuid: "peru", memory: "Lima"), try outcome("b", "Lima", uuid: "peru", memory: "Lima"),
            try outcome("c", "yen", uuid: "japan", memory: "yen"), try outcome("d", "Once", uuid: nil, memory: "Twice"),
        ], memoryLayers: [0])
        let after = EvaluationReport(outcomes: [
            try outcome("a", "Lima", uuid: "peru", memory: "Quito"), try outcome("b", "Lima", uuid: "peru", memory: "Lima"),
            try outcome("c", "yen", uuid: "japan", memory: "yen"), try outcome("d", "Once", uuid: nil, memory: "Thrice"),
        ], memoryLayers: [0])
        let s = EditEvaluation.measure(before: before, after: after, edits: [edit])
        XCTAssertEqual(s.memory, EditCounts(edited: 2, followed: 1, unedited: 2, unchanged: 1))
        XCTAssertEqual(s.memory.success, 0.5)
        XCTAssertEqual(s.memory.locality, 0.5)
    }
}
