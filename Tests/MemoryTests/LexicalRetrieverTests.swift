import Foundation
import JSON
import Memory
import TestSupport
import XCTest

/// BM25 (method §4) against the Python reference (scripts/make_bm25_golden.py), and an inverted
/// index that edits keep equal to a fresh build.
final class LexicalRetrieverTests: TemporaryDirectoryTestCase {
    func testWordsAndScoresMatchThePythonReference() throws {
        let golden = try JSONValue.parse(BM25Golden.json)
        let texts = try XCTUnwrap(golden["texts"]?.arrayValue).map(\.stringValue)
        let words = try XCTUnwrap(golden["words"]?.arrayValue)
        for (row, text) in texts.enumerated() {
            guard let text else { continue }
            XCTAssertEqual(LexicalWords.words(text), words[row].arrayValue?.compactMap(\.stringValue), "row \(row): \(text)")
        }
        let documents: [(row: Int, text: String)] = texts.enumerated().compactMap { row, text in text.map { (row, $0) } }
        let retriever = LexicalRetriever(rowCount: texts.count, texts: documents)
        for query in try XCTUnwrap(golden["queries"]?.arrayValue) {
            let text = try XCTUnwrap(query["query"]?.stringValue)
            let expected = try XCTUnwrap(query["results"]?.arrayValue)
            let got = retriever.search(text, top: texts.count)
            XCTAssertEqual(got.map(\.row), expected.compactMap { $0["row"]?.intValue }, "query \"\(text)\"")
            for (g, e) in zip(got, expected) {
                let score = try XCTUnwrap(e["score"].flatMap { if case .number(let n) = $0 { Double(n) } else { nil } })
                XCTAssertEqual(g.score, score, accuracy: 1e-6 * abs(score), "query \"\(text)\", row \(g.row)")
            }
            // The top C are the first C of the full ranking (ties to the lower row).
            XCTAssertEqual(retriever.search(text, top: 3), Array(got.prefix(3)))
        }
    }

    /// After an edit the old words no longer retrieve the row and the new ones do; every score
    /// equals that of an index built afresh from the edited rows, and of the bank reopened.
    func testEditsKeepTheIndexCurrent() throws {
        let tokenizer = try BankTokenizer(url: BankFixtures.byteTokenizer(in: work))
        let bank = try MemoryBank.create(at: work.appendingPathComponent("bank"), rows: BankFixtures.rows(tokenizer, length: 64, knowledgeNum: 16),
                                         tokenizer: tokenizer, config: BankFixtures.config())
        XCTAssertEqual(bank.lexical.search("Lima Peru", top: 1).first?.row, 1)
        try bank.edit(row: 1, MemoryChange(text: "Quito is the capital of Ecuador, Ecuador.", subject: "Ecuador", object: "Quito"))
        XCTAssertFalse(bank.lexical.search("Lima Peru", top: 16).contains { $0.row == 1 }, "the old words no longer retrieve the row")
        XCTAssertEqual(bank.lexical.search("Ecuador", top: 16).map(\.row), [1])
        try bank.edit(row: 1, MemoryChange(text: "Lima is the capital of Peru."))
        try bank.edit(row: 3, MemoryChange(text: "Kyoto was the capital of Japan, Kyoto."))
        try bank.delete(row: 0)
        try bank.add(MemoryChange(text: "Paris is the capital of France and the largest city of France."), cell: -1, row: 9)
        XCTAssertEqual(bank.lexical.search("Ecuador", top: 16), [])
        XCTAssertEqual(bank.lexical.search("Paris", top: 16).map(\.row), [9])

        let texts: [(row: Int, text: String)] = try (0..<16).compactMap { row in try bank.row(row).map { (row, $0.text) } }
        let fresh = LexicalRetriever(rowCount: 16, texts: texts)
        let reopened = try MemoryBank.open(at: bank.url, tokenizer: tokenizer)
        XCTAssertEqual(fresh.documentCount, bank.lexical.documentCount)
        for query in ["capital", "the capital of France", "Kyoto Japan", "Lima", "Tokyo", "Ecuador Quito", "largest city"] {
            let expected = fresh.search(query, top: 16)
            XCTAssertEqual(bank.lexical.search(query, top: 16), expected, "query \"\(query)\" after edits")
            XCTAssertEqual(reopened.lexical.search(query, top: 16), expected, "query \"\(query)\" after reopening")
        }
    }

    /// The pruned top C (MaxScore) equals the first C of the exhaustive ranking, before and after
    /// edits: rows of words with very uneven frequencies, queries mixing rare and common words.
    func testPrunedSearchEqualsExhaustiveRanking() {
        var seed: UInt64 = 12345
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        // Log-uniform word numbers: "w0" is in most rows, "w399" in few.
        func word() -> String { "w\(Int(Foundation.exp(Double(next(1 << 20)) / Double(1 << 20) * Foundation.log(400.0))) - 1)" }
        func sentence() -> String { (0..<(3 + next(12))).map { _ in word() }.joined(separator: " ") }
        let rows = 3000
        var current: [Int: String] = [:]
        for row in 0..<rows where row % 7 != 3 { current[row] = sentence() }
        let retriever = LexicalRetriever(rowCount: rows, texts: current.map { (row: $0.key, text: $0.value) })
        func check(_ label: String) {
            for _ in 0..<300 {
                let query = (0..<(1 + next(6))).map { _ in word() }.joined(separator: " ")
                let all = retriever.search(query, top: rows)
                for top in [1, 5, 16] {
                    XCTAssertEqual(retriever.search(query, top: top), Array(all.prefix(top)), "\(label): \"\(query)\" top \(top)")
                }
            }
        }
        check("built")
        for _ in 0..<400 {
            let row = next(rows)
            let new: String? = next(5) == 0 ? nil : sentence()
            retriever.update(row: row, old: current[row], new: new)
            current[row] = new
        }
        check("edited")
    }

    func testEmptyAndUnknownQueries() {
        let retriever = LexicalRetriever(rowCount: 4, texts: [(0, "alpha beta"), (2, "beta gamma")])
        XCTAssertEqual(retriever.search("", top: 4), [])
        XCTAssertEqual(retriever.search("delta", top: 4), [])
        XCTAssertEqual(retriever.search("beta", top: 0), [])
        XCTAssertEqual(retriever.search("BETA, beta!", top: 4).map(\.row), [0, 2])
        let empty = LexicalRetriever(rowCount: 4, texts: [(row: Int, text: String)]())
        XCTAssertEqual(empty.search("alpha", top: 4), [])
    }

    /// A bank built with `text,subject,predicate` indexes those fields beside the text (a question's
    /// predicate word meets a row whose sentence lacks it), records the choice, keeps it on reopening
    /// and re-indexes all three on an edit; scores equal a plain index over the joined fields.
    func testSubjectAndPredicateFieldsAreIndexedWhenTheBankSaysSo() throws {
        let tokenizer = try BankTokenizer(url: BankFixtures.byteTokenizer(in: work))
        var rows = BankFixtures.rows(tokenizer, length: 64, knowledgeNum: 16)
        rows[4].predicate = "seat of government"
        let plain = try MemoryBank.create(at: work.appendingPathComponent("plain"), rows: rows, tokenizer: tokenizer, config: BankFixtures.config())
        let fields = try MemoryBank.create(at: work.appendingPathComponent("fields"), rows: rows, tokenizer: tokenizer, config: BankFixtures.config(),
                                           lexicalFields: .textSubjectPredicate)
        XCTAssertEqual(plain.lexicalFields, .text)
        XCTAssertEqual(plain.lexical.search("government", top: 16), [], "the method's index reads the text only")
        XCTAssertEqual(fields.lexical.search("government", top: 16).map(\.row), [4])
        func documents(_ bank: MemoryBank) throws -> [(row: Int, text: String)] {
            try (0..<16).compactMap { row in try bank.row(row).map { (row, "\($0.text)\n\($0.subject)\n\($0.predicate)") } }
        }
        let reopened = try MemoryBank.open(at: fields.url, tokenizer: tokenizer)
        XCTAssertEqual(reopened.lexicalFields, .textSubjectPredicate)
        try reopened.edit(row: 4, MemoryChange(text: "Sydney is the capital of Australia.", predicate: "largest harbour", object: "Sydney"))
        XCTAssertEqual(reopened.lexical.search("government", top: 16), [], "the old predicate left the index")
        XCTAssertEqual(reopened.lexical.search("harbour", top: 16).map(\.row), [4])
        let fresh = LexicalRetriever(rowCount: 16, texts: try documents(reopened))
        for query in ["capital of Austria", "harbour Sydney", "Peru capital", "Australia"] {
            XCTAssertEqual(reopened.lexical.search(query, top: 16), fresh.search(query, top: 16), query)
        }

        // Metadata that names no known set of fields is refused by name.
        let index = fields.url.appendingPathComponent(MemoryBank.indexName)
        var file = try Data(contentsOf: index)
        let from = Data("text,subject,predicate".utf8), to = Data("text,subject,objects!".utf8)
        let range = try XCTUnwrap(file.range(of: from))
        file.replaceSubrange(range, with: to + Data(repeating: 0x20, count: from.count - to.count))
        try file.write(to: index)
        XCTAssertThrowsError(try MemoryBank.open(at: fields.url, tokenizer: tokenizer)) { error in
            XCTAssertTrue("\(error)".contains("lexical_fields"), "\(error)")
        }
    }

}
