import Compute
import Foundation
import Memory
import TestSupport
import XCTest

/// The bank as a store (method §2, §3): create, open, read, edit, add, delete and the history, and
/// the clear errors that leave the bank unchanged.
final class MemoryBankTests: TemporaryDirectoryTestCase {
    var tokenizer: BankTokenizer!

    override func setUpWithError() throws {
        try super.setUpWithError()
        tokenizer = try BankTokenizer(url: BankFixtures.byteTokenizer(in: work))
    }

    /// A bank of the five facts in 16 rows of 64 tokens with keys of width 4.
    func makeBank() throws -> MemoryBank {
        let keys = Tensor(zeros: [2, 4, 2])
        for i in 0..<keys.count { keys.data[i] = Float(i) / 8 }
        return try MemoryBank.create(at: work.appendingPathComponent("bank"), rows: BankFixtures.rows(tokenizer, length: 64, knowledgeNum: 16, keyWidth: 4),
                                     tokenizer: tokenizer, config: BankFixtures.config(), keys: keys, embedder: "test-embedder")
    }

    func testCreateOpenAndReadRoundTrip() throws {
        let built = try makeBank()
        let bank = try MemoryBank.open(at: built.url, tokenizer: tokenizer)
        XCTAssertEqual(bank.knowledgeNum, 16); XCTAssertEqual(bank.knowledgeLength, 64); XCTAssertEqual(bank.knowledgeDim, 4)
        XCTAssertEqual(bank.tokenizerSHA256, tokenizer.sha256); XCTAssertEqual(bank.embedder, "test-embedder")
        XCTAssertEqual(bank.keys?.shape, [2, 4, 2]); XCTAssertEqual(bank.keys?.array, built.keys?.array)
        XCTAssertEqual(bank.tokens.count, 16 * 64)
        let expected = BankFixtures.rows(tokenizer, length: 64, knowledgeNum: 16, keyWidth: 4)
        for (i, row) in expected.enumerated() {
            XCTAssertEqual(Int(bank.lengths[i]), row.tokens.count)
            XCTAssertEqual(Array(bank.tokens[i * 64..<i * 64 + row.tokens.count]), row.tokens)
            XCTAssertTrue(bank.tokens[i * 64 + row.tokens.count..<(i + 1) * 64].allSatisfy { $0 == 256 }, "right-padded with the pad id")
            XCTAssertEqual(bank.cells[i], row.cell)
            XCTAssertEqual(try bank.row(i), row)
        }
        // The object is appended as an answer: "Lima" after the sentence, no leading space.
        let peru = try XCTUnwrap(bank.row(1))
        XCTAssertEqual(peru.objectLength, 4)
        XCTAssertEqual(Array(peru.objectTokens), "Lima".utf8.map { Int32($0) })
        XCTAssertEqual(peru.tokens.count, "The capital of Peru is Lima.".utf8.count + 4)
        // Empty slots: length 0, cell −1, no row.
        XCTAssertEqual(bank.lengths[5...].allSatisfy { $0 == 0 }, true)
        XCTAssertEqual(bank.cells[5...].allSatisfy { $0 == -1 }, true)
        XCTAssertNil(try bank.row(15))
        XCTAssertEqual(try bank.allRows().map(\.index), Array(0..<5))
        XCTAssertEqual(try bank.allRows().map(\.row), expected.filter { !$0.tokens.isEmpty })
        XCTAssertEqual(try bank.rowsByUUID(), Dictionary(uniqueKeysWithValues: expected.enumerated().filter { !$0.element.uuid.isEmpty }.map { ($0.element.uuid, $0.offset) }))
        let (offsets, entries) = bank.cellIndex()
        XCTAssertEqual(offsets.count, 17)
        XCTAssertEqual(entries.count, 5)
        for c in 0..<16 {
            XCTAssertEqual(Array(entries[Int(offsets[c])..<Int(offsets[c + 1])]), (0..<5).filter { $0 * 3 % 16 == c }.map(Int32.init))
        }
        XCTAssertEqual(try bank.integrityCheck(), "ok")
        XCTAssertEqual(try bank.history(), [])
        let files = try FileManager.default.contentsOfDirectory(atPath: bank.url.path).filter { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
        // The tokenizer travels with the bank (tokenizer_config.json too, when the model has one).
        XCTAssertEqual(Set(files), [MemoryBank.databaseName, MemoryBank.indexName, "tokenizer.json"])
    }

    /// Rows longer than L_k keep the whole object and lose the sentence's tail, and say so.
    func testEntryTokensKeepTheObjectWhenCut() throws {
        let (tokens, objectLength, cut) = MemoryRow.entryTokens(sentence: "The capital of Peru is Lima.", object: "Lima",
                                                                tokenizer: tokenizer.tokenizer, length: 10)
        XCTAssertTrue(cut)
        XCTAssertEqual(objectLength, 4)
        XCTAssertEqual(tokens, "The ca".utf8.map { Int32($0) } + "Lima".utf8.map { Int32($0) })
        let whole = MemoryRow.entryTokens(sentence: "Hi.", object: "", tokenizer: tokenizer.tokenizer, length: 10)
        XCTAssertEqual(whole.tokens, "Hi.".utf8.map { Int32($0) }); XCTAssertEqual(whole.objectLength, 0); XCTAssertFalse(whole.cut)
    }

    func testEditAddDeleteAndHistory() throws {
        let bank = try makeBank()
        // The text changes but still contains the object: it stays appended; the cell stays.
        let kept = try bank.edit(row: 1, MemoryChange(text: "Lima is the capital city of Peru."))
        XCTAssertEqual(kept, MemoryEditReport(row: 1, cut: false, droppedObject: nil))
        var peru = try XCTUnwrap(bank.row(1))
        XCTAssertEqual(peru.object, "Lima"); XCTAssertEqual(peru.objectLength, 4); XCTAssertEqual(peru.cell, 3); XCTAssertEqual(peru.subject, "Peru")
        XCTAssertEqual(peru.tokens, ("Lima is the capital city of Peru." + "Lima").utf8.map { Int32($0) })
        XCTAssertEqual(peru.key, BankFixtures.rows(tokenizer, length: 64, knowledgeNum: 16, keyWidth: 4)[1].key, "the key embedding stays")
        // The text no longer contains the object and names none: the row loses it, and the edit says so.
        let dropped = try bank.edit(row: 1, MemoryChange(text: "Peru has a capital."))
        XCTAssertEqual(dropped.droppedObject, "Lima")
        peru = try XCTUnwrap(bank.row(1))
        XCTAssertEqual(peru.object, ""); XCTAssertEqual(peru.objectLength, 0); XCTAssertEqual(peru.tokens, "Peru has a capital.".utf8.map { Int32($0) })
        // Naming the object sets it.
        try bank.edit(row: 1, MemoryChange(text: "The capital of Peru is Cusco.", object: "Cusco"))
        XCTAssertEqual(try bank.row(1)?.objectTokens.map { $0 }, "Cusco".utf8.map { Int32($0) })
        // Too long for L_k = 64: cut and reported.
        let long = try bank.edit(row: 2, MemoryChange(text: String(repeating: "Vienna, Austria. ", count: 8), object: "Vienna"))
        XCTAssertTrue(long.cut)
        XCTAssertEqual(bank.lengths[2], 64)
        // Add into the first free row, with the caller's cell; then into a named row.
        let added = try bank.add(MemoryChange(text: "Ottawa is the capital of Canada.", subject: "Canada", predicate: "capital", object: "Ottawa",
                                              uuid: "new-1", source: "user"), cell: 7)
        XCTAssertEqual(added.row, 5)
        XCTAssertEqual(bank.cells[5], 7)
        XCTAssertEqual(try bank.row(5)?.uuid, "new-1")
        XCTAssertNil(try bank.row(5)?.key)
        XCTAssertEqual(try bank.add(MemoryChange(text: "Bern is the capital of Switzerland."), cell: 2, row: 12).row, 12)
        // Delete: length 0, cell −1, no row; the CSR index follows.
        try bank.delete(row: 0)
        XCTAssertEqual(bank.lengths[0], 0); XCTAssertEqual(bank.cells[0], -1); XCTAssertNil(try bank.row(0))
        XCTAssertTrue(bank.tokens[0..<64].allSatisfy { $0 == 256 })
        XCTAssertFalse(bank.cellIndex().entries.contains(0))
        XCTAssertTrue(bank.cellIndex().entries.contains(5))

        let history = try bank.history()
        XCTAssertEqual(history.map(\.action), ["edit", "edit", "edit", "edit", "add", "add", "delete"])
        XCTAssertEqual(history.map(\.row), [1, 1, 1, 2, 5, 12, 0])
        XCTAssertEqual(try bank.history(row: 1).count, 3)
        let first = history[0]
        XCTAssertTrue(first.old!.contains("\"text\": \"The capital of Peru is Lima.\""), first.old!)
        XCTAssertTrue(first.new!.contains("\"text\": \"Lima is the capital city of Peru.\""), first.new!)
        XCTAssertNil(history[4].old); XCTAssertNil(history[6].new)
        XCTAssertNotNil(ISO8601DateFormatter.withFractions.date(from: first.time), first.time)

        // Everything is on disk: a fresh open sees the same view.
        let reopened = try MemoryBank.open(at: bank.url, tokenizer: tokenizer)
        XCTAssertEqual(reopened.tokens, bank.tokens); XCTAssertEqual(reopened.lengths, bank.lengths); XCTAssertEqual(reopened.cells, bank.cells)
        for r in 0..<16 { XCTAssertEqual(try reopened.row(r), try bank.row(r)) }
        XCTAssertEqual(try reopened.history(), history)
        XCTAssertEqual(try reopened.integrityCheck(), "ok")
    }

    /// A row outside the bank, an edit or delete of an empty row, adding over a fact, an empty text,
    /// a cell outside the grid: each a clear message, and nothing changes.
    func testBadEditsAreRefusedAndChangeNothing() throws {
        let bank = try makeBank()
        let before = try snapshot(bank)
        let change = MemoryChange(text: "Quito is the capital of Ecuador.")
        XCTAssertTrue(thrownMessage { _ = try bank.row(16) }.contains("row 16 is outside the bank (rows 0..<16)"))
        XCTAssertTrue(thrownMessage { try bank.edit(row: -1, change) }.contains("row -1 is outside the bank"))
        XCTAssertTrue(thrownMessage { try bank.edit(row: 9, change) }.contains("row 9 is empty"))
        XCTAssertTrue(thrownMessage { try bank.delete(row: 9) }.contains("row 9 is already empty"))
        XCTAssertTrue(thrownMessage { try bank.add(change, cell: 0, row: 2) }.contains("row 2 holds a fact"))
        XCTAssertTrue(thrownMessage { try bank.add(change, cell: 16) }.contains("cell 16 is outside the grid"))
        XCTAssertTrue(thrownMessage { try bank.edit(row: 0, MemoryChange(text: "")) }.contains("the new text is empty"))
        XCTAssertTrue(thrownMessage { try bank.edit(row: 0, MemoryChange(text: "x", key: [1, 2])) }.contains("key embedding of 2 values"))
        XCTAssertTrue(thrownMessage { _ = try bank.history(row: 99) }.contains("row 99 is outside the bank"))
        let unchanged = try snapshot(bank)
        XCTAssertEqual(unchanged.rows, before.rows); XCTAssertEqual(unchanged.history, []); XCTAssertEqual(unchanged.lexicalScores, before.lexicalScores)
        // A deleted row cannot be edited; adding its fact back restores the row exactly.
        try bank.delete(row: 3)
        XCTAssertTrue(thrownMessage { try bank.edit(row: 3, change) }.contains("row 3 is empty (deleted or never filled)"))
        XCTAssertEqual(try bank.history().count, 1)
        try bank.add(MemoryChange(text: "Tokyo is the capital of Japan.", subject: "Japan", predicate: "capital", object: "Tokyo", uuid: "fact-3",
                                  source: "test", key: before.rows[3]?.key), cell: 9, row: 3)
        let restored = try snapshot(bank)
        XCTAssertEqual(restored.rows, before.rows)
        XCTAssertEqual(restored.lexicalScores, before.lexicalScores)
    }

    /// Another tokenizer (its tokenizer.json's sha256 differs), a directory that is not a bank, a
    /// bank whose files disagree: refused at open, naming the problem; the bank stays as it was.
    func testOpenRefusesAnotherTokenizerAndBrokenBanks() throws {
        let bank = try makeBank()
        let before = try snapshot(bank)
        let other = try BankTokenizer(url: BankFixtures.byteTokenizer(in: work, name: "other", added: ["<|endoftext|>", "<|im_end|>"]))
        XCTAssertNotEqual(other.sha256, tokenizer.sha256)
        let message = thrownMessage { _ = try MemoryBank.open(at: bank.url, tokenizer: other) }
        XCTAssertTrue(message.contains("built with another tokenizer (tokenizer.json sha256 \(tokenizer.sha256), given \(other.sha256))"), message)
        XCTAssertEqual(try snapshot(MemoryBank.open(at: bank.url, tokenizer: tokenizer)).rows, before.rows)

        let notABank = work.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: notABank, withIntermediateDirectories: true)
        XCTAssertTrue(thrownMessage { _ = try MemoryBank.open(at: notABank, tokenizer: self.tokenizer) }.contains("not a memory bank"))
        // Creating over a directory holding other files is refused.
        try Data("keep".utf8).write(to: notABank.appendingPathComponent("notes.txt"))
        let refused = thrownMessage {
            try MemoryBank.create(at: notABank, rows: [], tokenizer: self.tokenizer, config: BankFixtures.config())
        }
        XCTAssertTrue(refused.contains("holds notes.txt, not only a memory bank"), refused)
        // An index from another bank beside this database.
        let small = try MemoryBank.create(at: work.appendingPathComponent("small"), rows: [], tokenizer: tokenizer, config: BankFixtures.config(knowledgeNum: 4))
        let mixed = work.appendingPathComponent("mixed")
        try FileManager.default.createDirectory(at: mixed, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: small.url.appendingPathComponent(MemoryBank.indexName), to: mixed.appendingPathComponent(MemoryBank.indexName))
        try FileManager.default.copyItem(at: bank.databaseURL, to: mixed.appendingPathComponent(MemoryBank.databaseName))
        XCTAssertTrue(thrownMessage { _ = try MemoryBank.open(at: mixed, tokenizer: self.tokenizer) }.contains("belong to different banks"))
        // Bad rows at creation name the fact.
        var rows = BankFixtures.rows(tokenizer, length: 64, knowledgeNum: 16)
        rows[2].tokens.append(999)
        let bad = thrownMessage {
            try MemoryBank.create(at: self.work.appendingPathComponent("bad"), rows: rows, tokenizer: self.tokenizer, config: BankFixtures.config())
        }
        XCTAssertTrue(bad.contains("fact 2: token id 999 is outside the tokenizer's vocabulary"), bad)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("bad").path), "a failed build leaves nothing")
    }

    /// An edit made through another connection makes this process's view stale: its next edit is refused.
    func testEditRefusedWhenAnotherProcessChangedTheBank() throws {
        let bank = try makeBank()
        let second = try MemoryBank.open(at: bank.url, tokenizer: tokenizer)
        try second.edit(row: 0, MemoryChange(text: "Paris is in France."))
        let message = thrownMessage { try bank.edit(row: 1, MemoryChange(text: "Lima, Peru.")) }
        XCTAssertTrue(message.contains("another process changed the bank since it was opened"), message)
        XCTAssertEqual(try MemoryBank.open(at: bank.url, tokenizer: tokenizer).history().count, 1)
    }

    /// The genuine Qwen3 tokenizer: the appended object is the answer's own tokens ("Lima", no
    /// leading space), which differ from the same word inside the sentence (" Lima").
    func testQwen3ObjectTokensAreTheAnswers() throws {
        guard FileManager.default.fileExists(atPath: BankFixtures.qwen3Tokenizer.appendingPathComponent("tokenizer.json").path) else {
            throw XCTSkip("../shared/testdata/qwen3-tokenizer/tokenizer.json is absent (the shared test data)")
        }
        let qwen = try BankTokenizer(url: BankFixtures.qwen3Tokenizer)
        let bank = try MemoryBank.create(at: work.appendingPathComponent("qwen"), rows: BankFixtures.rows(qwen, length: 16, knowledgeNum: 16),
                                         tokenizer: qwen, config: BankFixtures.config(knowledgeLength: 16))
        let peru = try XCTUnwrap(bank.row(1))
        XCTAssertEqual(Array(peru.objectTokens), qwen.tokenizer.encode("Lima"))
        XCTAssertNotEqual(qwen.tokenizer.encode("Lima"), qwen.tokenizer.encode(" Lima"))
        XCTAssertEqual(peru.tokens, qwen.tokenizer.encode("The capital of Peru is Lima.") + qwen.tokenizer.encode("Lima"))
        XCTAssertEqual(bank.padTokenId, qwen.tokenizer.padTokenId)
        XCTAssertEqual(qwen.sha256.count, 64)
    }

    /// SHA-256 of known messages (FIPS 180-4 examples), through a tokenizer file's fingerprint.
    func testTokenizerFingerprintIsSHA256() throws {
        for (text, digest) in [("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
                               ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                               (String(repeating: "a", count: 1000), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")] {
            let file = work.appendingPathComponent("fingerprint.json")
            try Data(text.utf8).write(to: file)
            XCTAssertEqual(try BankTokenizer.sha256(of: file), digest)
        }
    }

    struct Snapshot {
        var rows: [MemoryRow?]
        var history: [MemoryEditRecord]
        var lexicalScores: [[LexicalRetriever.Candidate]]
    }

    func snapshot(_ bank: MemoryBank) throws -> Snapshot {
        Snapshot(rows: try (0..<bank.knowledgeNum).map { try bank.row($0) }, history: try bank.history(),
                 lexicalScores: ["capital", "Tokyo Japan", "Ecuador Quito"].map { bank.lexical.search($0, top: 16) })
    }
}

extension ISO8601DateFormatter {
    static var withFractions: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
