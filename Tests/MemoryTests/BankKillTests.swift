import Foundation
import Memory
import TestSupport
import XCTest

/// An edit is atomic and durable: a process killed (SIGKILL) in the middle of a burst of edits leaves
/// a bank that opens, passes SQLite's integrity check, and holds every edit it acknowledged.
/// The child edits in a loop and appends each edit's number to an acknowledgement file after the
/// edit returned; the parent kills it at a few moments and compares.
final class BankKillTests: TemporaryDirectoryTestCase {
    static let childKey = "EXPLICITLM_BANK_KILL_DIR"

    static func text(edit: Int, row: Int) -> String { "Edit \(edit) of row \(row): the capital is City\(edit)." }

    func testChildEditsForever() throws {
        guard let dir = ProcessInfo.processInfo.environment[Self.childKey] else { return }  // only as the child
        let parent = URL(fileURLWithPath: dir)  // the parent test's directory
        let tokenizer = try BankTokenizer(url: parent.appendingPathComponent("tokenizer"))
        let bank = try MemoryBank.open(at: parent.appendingPathComponent("bank"), tokenizer: tokenizer)
        let acks = open(parent.appendingPathComponent("acks").path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard acks >= 0 else { throw MemoryBankError("cannot open the acknowledgement file") }
        for edit in (try bank.history().count + 1)... {
            let row = edit % 5
            try bank.edit(row: row, MemoryChange(text: Self.text(edit: edit, row: row), object: "City\(edit)"))
            let line = Array("\(edit)\n".utf8)
            guard write(acks, line, line.count) == line.count else { throw MemoryBankError("cannot acknowledge edit \(edit)") }
        }
    }

    func testKilledInABurstOfEditsKeepsEveryAcknowledgedEdit() throws {
        if ProcessInfo.processInfo.environment[Self.childKey] != nil { return }
        let tokenizer = try BankTokenizer(url: BankFixtures.byteTokenizer(in: work))
        try MemoryBank.create(at: work.appendingPathComponent("bank"), rows: BankFixtures.rows(tokenizer, length: 64, knowledgeNum: 16),
                              tokenizer: tokenizer, config: BankFixtures.config())
        var acknowledged = 0
        for (round, delay) in [0.6, 0.9, 1.2].enumerated() {
            try KilledChild.run("MemoryTests.BankKillTests/testChildEditsForever", environment: [Self.childKey: work.path], killAfter: delay)
            // A line without its newline was cut by the kill: that edit was not acknowledged.
            let text = (try? String(contentsOf: work.appendingPathComponent("acks"), encoding: .utf8)) ?? ""
            let acks = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().compactMap { Int($0) }
            let bank = try MemoryBank.open(at: work.appendingPathComponent("bank"), tokenizer: tokenizer)
            XCTAssertEqual(try bank.integrityCheck(), "ok")
            let history = try bank.history()
            XCTAssertTrue(history.allSatisfy { $0.action == "edit" })
            // Edits are numbered 1, 2, … in the log, and every acknowledged one is there.
            let logged = history.compactMap { record in record.new.flatMap { Self.editNumber(in: $0) } }
            XCTAssertEqual(logged, (0..<logged.count).map { $0 + 1 })
            let lastAck = acks.last ?? 0
            let missing = Set(acks).subtracting(logged)
            XCTAssertTrue(missing.isEmpty, "acknowledged edits missing from the bank: \(missing.sorted())")
            // Each child may have committed one edit it did not live to acknowledge.
            XCTAssertLessThanOrEqual(logged.count, lastAck + round + 1, "more edits committed than the children made")
            // Each row holds its last logged edit, whole: text, object and tokens together.
            for row in 0..<5 {
                guard let last = history.last(where: { $0.row == row }), let edit = Self.editNumber(in: last.new!) else { continue }
                let stored = try XCTUnwrap(bank.row(row))
                XCTAssertEqual(stored.text, Self.text(edit: edit, row: row))
                XCTAssertEqual(stored.object, "City\(edit)")
                XCTAssertEqual(stored.tokens, MemoryRow.entryTokens(sentence: stored.text, object: stored.object, tokenizer: tokenizer.tokenizer,
                                                                    length: 64).tokens)
            }
            acknowledged = lastAck
        }
        XCTAssertGreaterThan(acknowledged, 0, "the child never acknowledged an edit")
        print("bank kill test: \(acknowledged) edits acknowledged over 3 kills")
    }

    /// The edit number in a log record's JSON ("Edit 12 of row 2: …").
    static func editNumber(in json: String) -> Int? {
        guard let range = json.range(of: "\"text\": \"Edit ") else { return nil }
        return Int(json[range.upperBound...].prefix { $0.isNumber })
    }
}
