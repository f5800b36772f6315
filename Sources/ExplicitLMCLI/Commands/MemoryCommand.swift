import ArgumentParser
import Encoders
import Foundation
import JSON
import Memory

/// `explicitlm memory …`: read and change a bank's rows; every change is logged and survives a kill.
struct MemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Read and edit a memory bank's rows.",
        subcommands: [Show.self, Edit.self, Add.self, Delete.self, History.self])

    /// The bank directory, opened with the tokenizer it carries.
    struct BankOption: ParsableArguments {
        @Argument(help: "The bank directory (from build-memory).") var bank: String

        func open() throws -> MemoryBank {
            let url = URL(fileURLWithPath: bank)
            return try MemoryBank.open(at: url, tokenizer: try BankTokenizer(url: url))
        }
    }

    /// The fields an edit or an addition may set.
    struct FactOptions: ParsableArguments {
        @Option(help: "The fact's sentence (re-tokenised).") var text: String
        @Option(help: "Its subject.") var subject: String?
        @Option(help: "Its predicate.") var predicate: String?
        @Option(help: "Its object, appended to the row's tokens as an answer tokenises it.") var object: String?

        var change: MemoryChange { MemoryChange(text: text, subject: subject, predicate: predicate, object: object) }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one row: its text, tokens and metadata.")
        @OptionGroup var bank: BankOption
        @Argument(help: "The row.") var row: Int
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let bank = try bank.open()
            guard let r = try bank.row(row) else { throw CLIError("\(self.bank.bank): row \(row) is empty") }
            if json {
                func ids(_ t: some Collection<Int32>) -> JSONValue { .array(t.map { .number(String($0)) }) }
                print(JSONValue.object([
                    ("row", .number(String(row))), ("text", .string(r.text)), ("tokens", ids(r.tokens)),
                    ("object_tokens", ids(r.objectTokens)), ("uuid", .string(r.uuid)), ("subject", .string(r.subject)),
                    ("predicate", .string(r.predicate)), ("object", .string(r.object)), ("source", .string(r.source)),
                    ("cell", .number(String(r.cell))),
                ]).pythonJSON())
            } else {
                print("row \(row): \(r.text)")
                print("tokens: \(r.tokens.map(String.init).joined(separator: " ")) (object: \(r.objectTokens.count))")
                print("subject: \(r.subject)  predicate: \(r.predicate)  object: \(r.object)  uuid: \(r.uuid)  cell: \(r.cell)")
            }
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a row's fact; its cell is kept, its key embedding follows a new key text.")
        @OptionGroup var bank: BankOption
        @Argument(help: "The row.") var row: Int
        @OptionGroup var fact: FactOptions
        @Option(help: "The model or sentence encoder that embeds a changed key text (default: the bank's embedder).")
        var embedder: String?

        func run() throws {
            let bank = try bank.open()
            var change = fact.change
            if bank.keys != nil, let old = try bank.row(row) {
                let before = Fact(sentence: old.text, subject: old.subject, predicate: old.predicate)
                let after = Fact(sentence: change.text, subject: change.subject ?? old.subject, predicate: change.predicate ?? old.predicate)
                // The stored key re-scores encoder candidates exactly, so it must embed the row's key text.
                if MemoryKeys.keyText(after) != MemoryKeys.keyText(before) { change.key = try embedKey(after, bank: bank, embedder: embedder) }
            }
            report(try bank.edit(row: row, change))
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a fact in a free row, in the cell of its nearest keys when the bank has keys; prints the row.")
        @OptionGroup var bank: BankOption
        @OptionGroup var fact: FactOptions
        @Option(help: "The model or sentence encoder whose embedding places the fact (default: the bank's embedder).")
        var embedder: String?

        func run() throws {
            let bank = try bank.open()
            var change = fact.change
            var cell: Int32 = -1
            if let grid = try bank.keyGrid() {
                let fact = Fact(sentence: change.text, subject: change.subject, predicate: change.predicate, object: change.object)
                let key = try embedKey(fact, bank: bank, embedder: embedder)
                cell = key.withUnsafeBufferPointer { grid.nearestCell($0.baseAddress!) }
                change.key = key
            }
            report(try bank.add(change, cell: cell))
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Empty a row (it is never a candidate again).")
        @OptionGroup var bank: BankOption
        @Argument(help: "The row.") var row: Int

        func run() throws { report(try bank.open().delete(row: row)) }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The edit log, of one row or of the bank.")
        @OptionGroup var bank: BankOption
        @Argument(help: "Only this row.") var row: Int?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let edits = try bank.open().history(row: row)
            if json {
                func text(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
                print(JSONValue.object([("edits", .array(edits.map { e in
                    .object([("time", .string(e.time)), ("row", .number(String(e.row))), ("action", .string(e.action)),
                             ("old", text(e.old)), ("new", text(e.new))])
                }))]).pythonJSON())
            } else {
                for e in edits { print("\(e.time)  row \(e.row)  \(e.action)") }
            }
        }
    }
}

/// The key embedding of `fact` (method §3's key text) by `embedder`, else the embedder the bank was built with.
private func embedKey(_ fact: Fact, bank: MemoryBank, embedder: String?) throws -> [Float] {
    let path = embedder ?? bank.embedder
    let encoder = try makeEmbedder(path: URL(fileURLWithPath: path), textEncoder: { bank.tokenizer.tokenizer.encode($0) })
    let key = try encoder.embed([MemoryKeys.keyText(fact)])[0]
    guard key.count == bank.knowledgeDim else {
        throw CLIError("\(path): embeds into \(key.count) values, the bank's keys have K = \(bank.knowledgeDim)")
    }
    return key
}

/// What an edit did, on standard output (the row) and standard error (what was lost or cut).
private func report(_ r: MemoryEditReport) {
    print(r.row)
    if r.cut { FileHandle.standardError.write(Data("note: row \(r.row) was cut to the bank's knowledge_length\n".utf8)) }
    if let object = r.droppedObject {
        FileHandle.standardError.write(Data("note: row \(r.row) no longer holds its object \"\(object)\" (the new text does not contain it)\n".utf8))
    }
}
