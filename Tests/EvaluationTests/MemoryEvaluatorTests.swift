import Compute
import Foundation
import Memory
import Qwen3
import TestSupport
import Tokenizers
import Training
import XCTest

/// The evaluator against direct computations on a tiny random model and a bank whose BM25
/// ranking is known: rows 0 Peru capital Lima, 1 Chile capital Santiago, 2 Kenya currency
/// shilling, 3 Japan currency yen; C = 2.
final class MemoryEvaluatorTests: TemporaryDirectoryTestCase {
    /// Gold row in the candidates and selected; in the candidates but ranked second; not retrieved;
    /// no gold row; a multiple-choice item about Peru.
    func items() throws -> [EvaluationItem] {
        [
            try EvaluationWorld.item("What is the capital of Peru?", uuid: "peru"),
            try EvaluationWorld.item("Chile capital near Peru Lima?", answer: "Santiago", uuid: "chile"),
            try EvaluationWorld.item("Kenya capital?", answer: "yen", uuid: "japan"),
            try EvaluationWorld.item("Tell me a story", answer: "Once", uuid: nil),
            try EvaluationItem(question: "Which is the capital of Peru?", options: "A:Santiago,B:Lima", correctAnswer: "B:Lima",
                               uuid: "peru", source: "mc"),
        ]
    }

    func testRecallSelectionAndPredicatesAreCountedFromWhatTheLayersRead() throws {
        let world = try EvaluationWorld(in: work)
        let items = try items()
        // What BM25 returns, so that a wrong count below is the evaluator's fault.
        XCTAssertEqual(try items.map { try world.lexical($0.question).map(\.row) }, [[0, 1], [0, 1], [2, 0], [], [0, 1]])

        let report = try world.evaluator(.init(maxNewTokens: 4, oracle: true)).evaluate(items)
        let s = report.overall
        XCTAssertEqual(s.items, 5)
        XCTAssertEqual(s.retrieval.goldItems, 4)
        XCTAssertEqual(s.retrieval.recalled, [3, 3], "per memory layer (lexical: the same candidates)")
        XCTAssertEqual(s.retrieval.selected, [2, 2])
        XCTAssertEqual(s.retrieval.recall, 0.75)
        XCTAssertEqual(s.retrieval.selection, 0.5)
        XCTAssertEqual(report.outcomes.map(\.recalled), [true, true, false, nil, true])
        XCTAssertEqual(report.outcomes.map(\.selected), [true, false, false, nil, true])
        XCTAssertEqual(report.outcomes.map(\.goldRow), [0, 1, 3, nil, 0])
        XCTAssertEqual(report.outcomes[1].memoryOn.layers.map(\.selected), [0, 0], "the argmax chose BM25's first row")
        XCTAssertEqual(report.outcomes[3].memoryOn.layers.map(\.candidates), [[], []])

        XCTAssertEqual(s.oracle?.items, 4, "the oracle needs a gold row")
        XCTAssertEqual(s.memoryOff?.items, 5)
        XCTAssertEqual(s.memoryOn.choiceItems, 1)
        XCTAssertEqual(Set(report.byPredicate.keys), ["capital", "currency"])
        XCTAssertEqual(report.byPredicate["capital"]?.items, 3)
        XCTAssertEqual(report.byPredicate["capital"]?.retrieval.recalled, [3, 3])
        XCTAssertEqual(report.byPredicate["capital"]?.retrieval.selected, [2, 2])
        XCTAssertEqual(report.byPredicate["currency"]?.items, 1)
        XCTAssertEqual(report.byPredicate["currency"]?.retrieval.recall, 0)

        let m = report.metrics
        XCTAssertEqual(m["eval_recall"], 0.75)
        XCTAssertEqual(m["eval_selection"], 0.5)
        XCTAssertEqual(m["eval_recall_layer_1"], 0.75)
        XCTAssertEqual(m["eval_items"], 5)
        for key in ["eval_accuracy", "eval_accuracy_exact", "eval_accuracy_contains", "eval_accuracy_memory_off", "eval_accuracy_oracle",
                    "eval_mc_accuracy", "eval_mc_accuracy_memory_off", "eval_mc_accuracy_oracle"] {
            XCTAssertNotNil(m[key], key)
        }
        // Limited to the first two items: the deterministic subset the training loop evaluates.
        let first = try world.evaluator(.init(maxNewTokens: 1, memoryOff: false)).evaluate(items, limit: 2)
        XCTAssertEqual(first.outcomes.map(\.item.question), items.prefix(2).map(\.question))
        XCTAssertNil(first.overall.memoryOff)
        XCTAssertNil(first.metrics["eval_accuracy_memory_off"])
        XCTAssertNil(first.metrics["eval_mc_accuracy"], "no multiple-choice item among them")
    }

    /// Memory off is plain greedy generation; memory on and the oracle are greedy generation through
    /// the memory hook with the retriever's candidates, or the gold row alone; answers are judged.
    func testAnswersAreGreedyGenerationThroughTheEvaluationForward() throws {
        let world = try EvaluationWorld(in: work)
        var items = try items()
        let report = try world.evaluator(.init(maxNewTokens: 6, oracle: true)).evaluate(items)
        var changed = 0
        var expected = (off: 0, on: 0, oracle: 0)
        for (item, outcome) in zip(items, report.outcomes) {
            let (ids, promptLength) = try world.input(item)
            let off = try world.greedy(ids, context: nil, maxNewTokens: 6)
            let on = try world.greedy(ids, context: MemoryBatchContext(
                samples: [MemorySample(candidates: try world.lexical(item.question), promptLength: promptLength)], selection: .argmax), maxNewTokens: 6)
            XCTAssertEqual(outcome.memoryOff?.ids, off, item.question)
            XCTAssertEqual(outcome.memoryOn.ids, on, item.question)
            if off != on { changed += 1 }
            let text = world.tokenizer.decode(on.filter { !world.eos.contains($0) }, skipSpecialTokens: true)
            XCTAssertEqual(outcome.memoryOn.answer, text)
            if let gold = outcome.goldRow {
                let row = world.bank.candidate(RetrievedRow(row: gold, score: 1))
                let oracle = try world.greedy(ids, context: MemoryBatchContext(samples: [MemorySample(candidates: [row], promptLength: promptLength)],
                                                                               selection: .argmax), maxNewTokens: 6)
                XCTAssertEqual(outcome.oracle?.ids, oracle, item.question)
            } else {
                XCTAssertNil(outcome.oracle)
            }
        }
        XCTAssertGreaterThan(changed, 0, "the memory changes some answer, or the comparison above proves little")

        // Gold answers taken from what the model says: item 0 from its memory-on answer, item 1 from
        // the middle of it, so each judge's count is known.
        let answers = report.outcomes.map { $0.memoryOn.answer.trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertGreaterThan(answers[0].count, 0)
        XCTAssertGreaterThan(answers[1].count, 2)
        items[0].answer = answers[0]
        items[1].answer = String(answers[1].dropFirst().prefix(2))
        let judged = try world.evaluator(.init(maxNewTokens: 6, memoryOff: true)).evaluate(items)
        XCTAssertEqual(judged.outcomes[0].memoryOn.judgement, AnswerJudgement(startswith: true, exact: true, contains: true))
        XCTAssertTrue(judged.outcomes[1].memoryOn.judgement.contains)
        for (i, o) in judged.outcomes.enumerated() {
            let gold = items[i].answer
            func starts(_ m: ModeOutcome?) -> Int { m.map { $0.answer.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(gold) ? 1 : 0 } ?? 0 }
            expected.on += starts(o.memoryOn)
            expected.off += starts(o.memoryOff)
        }
        XCTAssertEqual(judged.overall.memoryOn.startswith, expected.on)
        XCTAssertEqual(judged.overall.memoryOff?.startswith, expected.off)
        XCTAssertGreaterThanOrEqual(judged.overall.memoryOn.contains, 2)
        XCTAssertEqual(judged.metrics["eval_accuracy"], Double(expected.on) / 5)
    }

    /// A training loop keeps one evaluator: each call reads the weights as they are then, and the
    /// memory-off answers stay those of the frozen backbone.
    func testEachEvaluationReadsTheCurrentWeights() throws {
        let world = try EvaluationWorld(in: work)
        let items = try items()
        let evaluator = try world.evaluator(.init(maxNewTokens: 4))
        let before = try evaluator.evaluate(items)
        XCTAssertTrue(before.outcomes.contains { $0.memoryOn.ids != $0.memoryOff?.ids })
        // o_proj zero, as at step 0: the memory step adds nothing, so memory on is the backbone.
        for p in world.memory.parameters where p.name.contains("o_proj") { p.value.fill(0) }
        let after = try evaluator.evaluate(items)
        for (a, b) in zip(before.outcomes, after.outcomes) {
            XCTAssertEqual(b.memoryOff, a.memoryOff)
            XCTAssertEqual(b.memoryOn.ids, b.memoryOff?.ids)
            XCTAssertEqual(b.memoryOn.optionLogLikelihoods, b.memoryOff?.optionLogLikelihoods)
        }
        XCTAssertEqual(after.metrics["eval_accuracy"], after.metrics["eval_accuracy_memory_off"])
    }

    /// Σ log p(option tokens | prompt) equals a full forward over prompt + option with the same memory.
    func testOptionLogLikelihoodsEqualAFullForward() throws {
        let world = try EvaluationWorld(in: work)
        let item = try items()[4]
        let report = try world.evaluator(.init(maxNewTokens: 2, oracle: true)).evaluate([item])
        let outcome = report.outcomes[0]
        let (ids, promptLength) = try world.input(item)
        let V = world.backbone.config.vocabSize
        func direct(_ candidates: [MemoryCandidate]?) throws -> [Double] {
            try item.options.map { option in
                let tokens = world.tokenizer.encode(option)
                let context = candidates.map { MemoryBatchContext(samples: [MemorySample(candidates: $0, promptLength: promptLength)], selection: .argmax) }
                let logits = world.backbone.forward(ids + tokens, cache: KVCache(config: world.backbone.config), logits: .all,
                                                    afterLayer: try context.map { try world.memory.layerHook($0) })
                var total = 0.0
                for (t, token) in tokens.enumerated() {
                    let row = Array(UnsafeBufferPointer(start: logits.data + (ids.count - 1 + t) * V, count: V)).map(Double.init)
                    let largest = row.max()!
                    total += row[Int(token)] - largest - log(row.reduce(0) { $0 + exp($1 - largest) })
                }
                return total
            }
        }
        let gold = world.bank.candidate(RetrievedRow(row: 0, score: 1))
        let cases: [(ModeOutcome?, [MemoryCandidate]?)] = [(outcome.memoryOff, nil), (outcome.memoryOn, try world.lexical(item.question)), (outcome.oracle, [gold])]
        for (mode, candidates) in cases {
            let mode = try XCTUnwrap(mode)
            let expected = try direct(candidates)
            XCTAssertEqual(mode.optionLogLikelihoods.count, 2)
            for (a, b) in zip(mode.optionLogLikelihoods, expected) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
            XCTAssertEqual(mode.choice, expected[1] > expected[0] ? 1 : 0)
            XCTAssertEqual(outcome.choiceCorrect(mode), expected[1] > expected[0])
        }
        XCTAssertNotEqual(outcome.memoryOn.optionLogLikelihoods, outcome.memoryOff?.optionLogLikelihoods, "the memory moves the likelihoods")
        let correct = [outcome.memoryOff, outcome.memoryOn, outcome.oracle].map { outcome.choiceCorrect($0!)! ? 1 : 0 }
        XCTAssertEqual(report.overall.memoryOff?.choiceCorrect, correct[0])
        XCTAssertEqual(report.overall.memoryOn.choiceCorrect, correct[1])
        XCTAssertEqual(report.overall.oracle?.choiceCorrect, correct[2])
    }

    /// Under the dense retriever each memory layer reads its own gate's rows; recall and selection
    /// are counted per layer from them.
    func testDenseRecallIsReadPerMemoryLayer() throws {
        let world = try EvaluationWorld(in: work, dense: true, candidates: 2)
        let items = try items()
        let report = try world.evaluator(.init(maxNewTokens: 1, memoryOff: false)).evaluate(items)
        let dense = try XCTUnwrap(try world.memory.denseRetriever(bank: world.bank))
        var recalled = [0, 0], selected = [0, 0]
        for (item, outcome) in zip(items, report.outcomes) {
            let (ids, promptLength) = try world.input(item)
            let context = MemoryBatchContext(samples: [MemorySample(candidates: [], promptLength: promptLength)], selection: .argmax, dense: dense)
            _ = world.backbone.forward(ids, cache: KVCache(config: world.backbone.config), logits: .none,
                                       chunkSize: context.prefillChunkSize(prompt: ids.count), afterLayer: try world.memory.layerHook(context))
            for (i, layer) in [0, 1].enumerated() {
                let rows = try XCTUnwrap(context.candidates(layer: layer, sample: 0)).map(\.row)
                let chosen = context.selected[layer]![0][ids.count - 1]
                XCTAssertEqual(outcome.memoryOn.layers[i].candidates, rows)
                XCTAssertEqual(outcome.memoryOn.layers[i].selected, rows[chosen])
                if let gold = outcome.goldRow {
                    if rows.contains(gold) { recalled[i] += 1 }
                    if rows[chosen] == gold { selected[i] += 1 }
                }
            }
        }
        XCTAssertEqual(report.overall.retrieval.recalled, recalled)
        XCTAssertEqual(report.overall.retrieval.selected, selected)
        XCTAssertEqual(report.metrics["eval_recall_layer_1"], Double(recalled[1]) / 4)
    }
}
