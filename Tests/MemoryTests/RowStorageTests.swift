import Foundation
import Memory
import TestSupport
import XCTest

/// Bank format 2 stores a row's text and metadata by reference to its tokens and text where it can
/// (RowStorage): every row must read back exactly as written, whichever way each field was stored,
/// through opening, editing and reopening.
final class RowStorageTests: TemporaryDirectoryTestCase {
    /// Rows that exercise each form, with the Qwen3 tokenizer (its NFC normaliser makes some texts
    /// differ from the decode of their own tokens).
    func rows(_ tokenizer: BankTokenizer, length: Int) -> [MemoryRow] {
        let facts: [(text: String, subject: String, predicate: String, object: String, source: String)] = [
            ("The capital of Peru is Lima.", "Peru", "capital", "Lima", "geo.jsonl"),            // every field by reference
            ("Quisumir Zuloka was born in Peldanelville, a town far to the north.", "Quisumir Zuloka", "born in", "Peldanelville",
             "geo.jsonl"),                                                                        // cut to L_k: the text's tail stored
            ("Cafe\u{301} Ola\u{301} serves coffee.", "Cafe\u{301} Ola\u{301}", "serves", "coffee", "food.jsonl"),  // not NFC: literal text
            ("São Tomé is on the equator.", "1999", "lies on", "the equator", ""),               // subject not in the text, numeric
            ("Ünïcödé ëvërÿwhérè ïn thïs sëntëncé ànd mörë.", "Ünïcödé", "", "Lisbon", "x"),     // object not in the text
            ("Empty fields.", "", "", "", ""),
            ("Short.", "", "", "a very long object that does not fit in twelve tokens at all", ""),  // object cut: literal
        ]
        return facts.enumerated().map { i, fact in
            let (tokens, objectLength, _) = MemoryRow.entryTokens(sentence: fact.text, object: fact.object, tokenizer: tokenizer.tokenizer,
                                                                   length: length)
            return MemoryRow(tokens: tokens, objectLength: objectLength, text: fact.text, uuid: "u\(i)", subject: fact.subject,
                             predicate: fact.predicate, object: fact.object, source: fact.source, cell: -1)
        }
    }

    func testEveryFormReadsBackExactly() throws {
        let tokenizer = try BankTokenizer(url: BankFixtures.qwen3Tokenizer)
        let rows = rows(tokenizer, length: 12)
        XCTAssertLessThan(rows[1].tokens.count - rows[1].objectLength, tokenizer.tokenizer.encode(rows[1].text).count, "row 1 is cut")
        let url = work.appendingPathComponent("bank")
        let built = try MemoryBank.create(at: url, rows: rows, tokenizer: tokenizer, config: BankFixtures.config(knowledgeNum: 16, knowledgeLength: 12),
                                          lexicalFields: .textSubjectPredicate)
        let bank = try MemoryBank.open(at: url, tokenizer: tokenizer)
        for b in [built, bank] { XCTAssertEqual(try b.allRows().map(\.row), rows) }
        for (i, row) in rows.enumerated() { XCTAssertEqual(try bank.row(i), row) }

        let counts = try bank.storageCounts()
        XCTAssertEqual(counts.rows, 7)
        // Text from tokens: rows 0, 1 (its tail stored), 3, 4, 5; row 2's NFC tokens do not spell its text, row 6 keeps no sentence token.
        XCTAssertEqual(counts.textFromTokens, 5)
        // Subject spans: Peru, Quisumir Zuloka, the decomposed café (found in its literal text), Ünïcödé.
        XCTAssertEqual(counts.subjectAsSpan, 4)
        XCTAssertEqual(counts.objectFromTokens, 6, "all but the row whose object tokens were cut")
        // BM25 reads the same text and metadata as the rows.
        XCTAssertEqual(bank.lexical.search("Zuloka born", top: 1).first?.row, 1)
        XCTAssertEqual(bank.lexical.search("serves", top: 1).first?.row, 2)
    }

    func testEditsAddNamesAndKeepReferences() throws {
        let tokenizer = try BankTokenizer(url: BankFixtures.qwen3Tokenizer)
        let url = work.appendingPathComponent("bank")
        try MemoryBank.create(at: url, rows: rows(tokenizer, length: 32), tokenizer: tokenizer, config: BankFixtures.config(knowledgeNum: 16, knowledgeLength: 32))
        let bank = try MemoryBank.open(at: url, tokenizer: tokenizer)
        try bank.edit(row: 0, MemoryChange(text: "The capital of Peru is Cusco.", predicate: "former capital", object: "Cusco", source: "edits"))
        try bank.add(MemoryChange(text: "Bern is the capital of Switzerland.", subject: "Switzerland", predicate: "former capital",
                                  object: "Bern", source: "edits"), cell: -1)
        let expected0 = try XCTUnwrap(bank.row(0)), expected7 = try XCTUnwrap(bank.row(7))
        XCTAssertEqual(expected0.predicate, "former capital"); XCTAssertEqual(expected0.object, "Cusco"); XCTAssertEqual(expected0.source, "edits")
        XCTAssertEqual(expected7.subject, "Switzerland")
        let reopened = try MemoryBank.open(at: url, tokenizer: tokenizer)
        XCTAssertEqual(try reopened.row(0), expected0)
        XCTAssertEqual(try reopened.row(7), expected7)
        XCTAssertEqual(try reopened.allRows().count, 8)
        XCTAssertEqual(try reopened.storageCounts().subjectAsSpan, 5)
        XCTAssertEqual(try reopened.integrityCheck(), "ok")
    }
}
