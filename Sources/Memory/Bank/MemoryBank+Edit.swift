import Foundation

/// A change to a row's fact: the new text (required), and each metadata field that changes.
public struct MemoryChange: Sendable {
    public var text: String
    public var subject: String?
    public var predicate: String?
    /// The new object; nil keeps the row's object only while the new text still contains it (§2).
    public var object: String?
    public var uuid: String?
    public var source: String?
    /// A new key embedding (K values); nil keeps the stored one.
    public var key: [Float]?

    public init(text: String, subject: String? = nil, predicate: String? = nil, object: String? = nil, uuid: String? = nil,
                source: String? = nil, key: [Float]? = nil)
    {
        self.text = text
        self.subject = subject
        self.predicate = predicate
        self.object = object
        self.uuid = uuid
        self.source = source
        self.key = key
    }
}

/// What an edit, add or delete did.
public struct MemoryEditReport: Sendable, Equatable {
    public let row: Int
    /// The row's tokens were cut to L_k (the sentence shortened so that the object stays whole).
    public let cut: Bool
    /// The object the row lost because the new text no longer contains it (method §2).
    public let droppedObject: String?

    public init(row: Int, cut: Bool, droppedObject: String?) {
        self.row = row
        self.cut = cut
        self.droppedObject = droppedObject
    }
}

/// One record of the edit log; `old` and `new` are the row as JSON text (nil: an empty row).
public struct MemoryEditRecord: Sendable, Equatable {
    public let time: String
    public let row: Int
    public let action: String
    public let old: String?
    public let new: String?
}

extension MemoryBank {
    /// Changes the fact of the non-empty row `row`: re-tokenises it, keeps its cell.
    @discardableResult
    public func edit(row: Int, _ change: MemoryChange) throws -> MemoryEditReport {
        var report = MemoryEditReport(row: row, cut: false, droppedObject: nil)
        try write(row: row) { old in
            guard let old else {
                throw MemoryBankError("\(url.path): row \(row) is empty (deleted or never filled); add a fact instead of editing it")
            }
            var object = old.object, dropped: String?
            if let given = change.object {
                object = given
            } else if !object.isEmpty, !change.text.contains(object) {
                dropped = object
                object = ""
            }
            let (new, cut) = try makeRow(change, from: old, object: object, cell: old.cell)
            report = MemoryEditReport(row: row, cut: cut, droppedObject: dropped)
            return (new, "edit")
        }
        return report
    }

    /// Puts a new fact into a free row: `row` when given (it must be empty), else the first empty
    /// row. `cell` is its grid cell (the caller assigns the nearest one), −1 in a bank without keys.
    @discardableResult
    public func add(_ change: MemoryChange, cell: Int32, row: Int? = nil) throws -> MemoryEditReport {
        guard let target = row ?? lengths.firstIndex(of: 0) else {
            throw MemoryBankError("\(url.path): the bank is full (all \(knowledgeNum) rows hold facts); delete one or build a larger bank")
        }
        var cut = false
        try write(row: target) { old in
            guard old == nil else { throw MemoryBankError("\(url.path): row \(target) holds a fact; edit it or add into an empty row") }
            let blank = MemoryRow(tokens: [], text: "")
            let made = try makeRow(change, from: blank, object: change.object ?? "", cell: cell)
            cut = made.cut
            return (made.row, "add")
        }
        return MemoryEditReport(row: target, cut: cut, droppedObject: nil)
    }

    /// Empties the non-empty row `row` (length 0, cell −1); its last fact stays in the log.
    @discardableResult
    public func delete(row: Int) throws -> MemoryEditReport {
        try write(row: row) { old in
            guard old != nil else { throw MemoryBankError("\(url.path): row \(row) is already empty") }
            return (nil, "delete")
        }
        return MemoryEditReport(row: row, cut: false, droppedObject: nil)
    }

    /// The edit log, oldest first: every edit, or those of `row`.
    public func history(row: Int? = nil) throws -> [MemoryEditRecord] {
        if let row { try checkInside(row) }
        let statement = try database.prepare(
            "SELECT time, row, action, old, new FROM edits" + (row == nil ? "" : " WHERE row = ?") + " ORDER BY id")
        try statement.bind(row.map { [.integer(Int64($0))] } ?? [])
        var records: [MemoryEditRecord] = []
        while try statement.step() {
            records.append(MemoryEditRecord(time: statement.text(0), row: Int(statement.integer(1)), action: statement.text(2),
                                            old: statement.isNull(3) ? nil : statement.text(3),
                                            new: statement.isNull(4) ? nil : statement.text(4)))
        }
        return records
    }

    /// The row `change` makes of `old`, tokenised as a bank builds rows (`MemoryRow.entryTokens`).
    private func makeRow(_ change: MemoryChange, from old: MemoryRow, object: String, cell: Int32) throws -> (row: MemoryRow, cut: Bool) {
        guard !change.text.isEmpty else { throw MemoryBankError("\(url.path): the new text is empty") }
        let (tokens, objectLength, cut) = MemoryRow.entryTokens(sentence: change.text, object: object, tokenizer: tokenizer.tokenizer,
                                                                length: knowledgeLength)
        let row = MemoryRow(tokens: tokens, objectLength: objectLength, text: change.text, uuid: change.uuid ?? old.uuid,
                            subject: change.subject ?? old.subject, predicate: change.predicate ?? old.predicate, object: object,
                            source: change.source ?? old.source, cell: cell, key: change.key ?? old.key)
        return (row, cut)
    }
}
