import Compute
import Foundation
import Memory

/// One planned change of a fact: its row's object becomes another object of the same predicate.
public struct FactEdit: Sendable, Equatable {
    public let row: Int
    public let uuid: String
    public let predicate: String
    public let oldObject: String
    public let newObject: String
    /// The row's text with the old object replaced.
    public let newText: String

    public init(row: Int, uuid: String, predicate: String, oldObject: String, newObject: String, newText: String) {
        self.row = row
        self.uuid = uuid
        self.predicate = predicate
        self.oldObject = oldObject
        self.newObject = newObject
        self.newText = newText
    }
}

/// Edit success and locality (method.md §9): change some facts in a bank through its edit path
/// (one transaction each, the BM25 index kept current), ask every question again, and count the
/// answers to edited facts that follow the new object and the other answers that stay the same.
public enum EditEvaluation {
    /// Up to `count` distinct facts among the items' gold rows, chosen by `seed`, each changed to
    /// another object of its predicate found in the bank. Only facts whose row has an object and
    /// predicate and whose items' answers contain that object qualify (the new answer is then known).
    public static func plan(items: [EvaluationItem], bank: MemoryBank, count: Int, seed: UInt64) throws -> [FactEdit] {
        let rows = try bank.allRows()
        let objects = CounterfactualSwap(rows: rows.map(\.row), probability: 1).objectsByPredicate
        let byUUID = Dictionary(rows.filter { !$0.row.uuid.isEmpty }.map { ($0.row.uuid, $0) }, uniquingKeysWith: { first, _ in first })
        var eligible: [String] = [], seen: Set<String> = []
        for item in items {
            guard let uuid = item.factUUID, !seen.contains(uuid), let (_, row) = byUUID[uuid], !row.object.isEmpty,
                  item.answer.contains(row.object), (objects[row.predicate]?.count ?? 0) > 1 else { continue }
            seen.insert(uuid)
            eligible.append(uuid)
        }
        var generator = SeededGenerator(seed: seed)
        eligible.shuffle(using: &generator)
        return eligible.prefix(max(0, count)).map { uuid in
            let (index, row) = byUUID[uuid]!
            let others = objects[row.predicate]!.filter { $0 != row.object && !row.text.contains($0) }
            let object = others[Int(generator.next(upperBound: UInt64(others.count)))]
            return FactEdit(row: index, uuid: uuid, predicate: row.predicate, oldObject: row.object, newObject: object,
                            newText: row.text.replacingOccurrences(of: row.object, with: object))
        }
    }

    /// Applies the edits to `bank` (each its own committed transaction, logged in its history).
    public static func apply(_ edits: [FactEdit], to bank: MemoryBank) throws {
        for edit in edits { _ = try bank.edit(row: edit.row, MemoryChange(text: edit.newText, object: edit.newObject)) }
    }

    /// Compares the answers before and after the edits, item by item (the same items in the same order).
    public static func measure(before: EvaluationReport, after: EvaluationReport, edits: [FactEdit]) -> EditSummary {
        let byUUID = Dictionary(edits.map { ($0.uuid, $0) }, uniquingKeysWith: { first, _ in first })
        var summary = EditSummary()
        for (old, new) in zip(before.outcomes, after.outcomes) {
            if let uuid = new.item.factUUID, let edit = byUUID[uuid] {
                let answer = new.item.answer.replacingOccurrences(of: edit.oldObject, with: edit.newObject)
                summary.memory.edited += 1
                if AnswerJudgement(generated: new.memoryOn.answer, gold: answer).startswith { summary.memory.followed += 1 }
                if let rag = new.rag {
                    summary.rag.edited += 1
                    if AnswerJudgement(generated: rag.answer.answer, gold: answer).startswith { summary.rag.followed += 1 }
                }
            } else {
                summary.memory.unedited += 1
                if new.memoryOn.answer == old.memoryOn.answer { summary.memory.unchanged += 1 }
                if let a = old.rag, let b = new.rag {
                    summary.rag.unedited += 1
                    if a.answer.answer == b.answer.answer { summary.rag.unchanged += 1 }
                }
            }
        }
        return summary
    }
}

/// What the edits did to one way of answering (memory on, or RAG).
public struct EditCounts: Sendable, Equatable {
    /// Items whose fact was edited, and those whose answer now starts with the new object.
    public var edited = 0, followed = 0
    /// The other items, and those whose answer stayed exactly the same.
    public var unedited = 0, unchanged = 0

    public init(edited: Int = 0, followed: Int = 0, unedited: Int = 0, unchanged: Int = 0) {
        self.edited = edited
        self.followed = followed
        self.unedited = unedited
        self.unchanged = unchanged
    }

    public var success: Double? { fraction(followed, edited) }
    public var locality: Double? { fraction(unchanged, unedited) }
}

public struct EditSummary: Sendable, Equatable {
    public var memory = EditCounts()
    public var rag = EditCounts()

    public init() {}
}
