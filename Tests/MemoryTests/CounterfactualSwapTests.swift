import Compute
import Foundation
import Memory
import TestSupport
import XCTest

/// The counterfactual swap (method.md §6): the gold row and the answer get another object of the
/// same predicate; ineligible samples are left alone.
final class CounterfactualSwapTests: TemporaryDirectoryTestCase {
    func testSwapReplacesTheObjectInRowAndAnswer() throws {
        let tokenizer = try BankTokenizer(url: try BankFixtures.byteTokenizer(in: work))
        var rows = BankFixtures.rows(tokenizer, length: 64, knowledgeNum: 16)
        rows.append(MemoryRow(tokens: [1], text: "Water boils at 100 degrees.", predicate: "boils at", object: "100 degrees"))
        let swap = CounterfactualSwap(rows: rows, probability: 1)
        XCTAssertEqual(swap.objectsByPredicate["capital"], ["Paris", "Lima", "Vienna", "Tokyo", "Canberra"])
        var generator = SeededGenerator(seed: 4)
        var seen = Set<String>()
        for _ in 0..<40 {
            let gold = rows[1]  // "The capital of Peru is Lima."
            let (row, answer) = try XCTUnwrap(swap.apply(gold: gold, answer: "Lima.", tokenizer: tokenizer.tokenizer, length: 64, generator: &generator))
            XCTAssertNotEqual(row.object, "Lima")
            XCTAssertEqual(row.text, "The capital of Peru is \(row.object).")
            XCTAssertEqual(answer, "\(row.object).")
            let expected = MemoryRow.entryTokens(sentence: row.text, object: row.object, tokenizer: tokenizer.tokenizer, length: 64)
            XCTAssertEqual(row.tokens, expected.tokens)
            XCTAssertEqual(row.objectLength, expected.objectLength)
            XCTAssertEqual(Array(row.objectTokens), Array(row.object.utf8).map(Int32.init))
            XCTAssertEqual(row.cell, gold.cell)
            seen.insert(row.object)
        }
        XCTAssertEqual(seen, ["Paris", "Vienna", "Tokyo", "Canberra"], "every other object of the predicate is drawn")

        // Not swapped: the answer lacks the object, the predicate has no other object, or the draw says no.
        XCTAssertNil(swap.apply(gold: rows[1], answer: "I do not know.", tokenizer: tokenizer.tokenizer, length: 64, generator: &generator))
        XCTAssertNil(swap.apply(gold: rows[5], answer: "100 degrees", tokenizer: tokenizer.tokenizer, length: 64, generator: &generator))
        let never = CounterfactualSwap(rows: rows, probability: 0)
        XCTAssertNil(never.apply(gold: rows[1], answer: "Lima", tokenizer: tokenizer.tokenizer, length: 64, generator: &generator))
        // Half the eligible samples at probability 0.5, and the same ones for the same seed.
        let half = CounterfactualSwap(rows: rows, probability: 0.5)
        func draws(_ seed: UInt64) -> [Bool] {
            var g = SeededGenerator(seed: seed)
            return (0..<400).map { _ in half.apply(gold: rows[1], answer: "Lima", tokenizer: tokenizer.tokenizer, length: 64, generator: &g) != nil }
        }
        let d = draws(9)
        XCTAssertEqual(d, draws(9))
        XCTAssertEqual(Double(d.filter { $0 }.count) / 400, 0.5, accuracy: 0.08)
    }
}
