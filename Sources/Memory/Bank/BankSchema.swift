import Compute
import Foundation
import SafeTensors

/// What a bank records about itself, in `index.safetensors`'s metadata and in `bank.sqlite`'s
/// `meta` table alike (all strings).
struct BankMetadata: Equatable {
    var knowledgeNum: Int
    var knowledgeLength: Int
    var knowledgeDim: Int
    var tokenizerSHA256: String
    var padTokenId: Int32
    var embedder: String
    /// What BM25 indexes of each row; absent in banks written before it existed (then `text`).
    var lexicalFields: LexicalFields = .text

    var dictionary: [String: String] {
        [
            "format": MemoryBank.format, "version": String(MemoryBank.formatVersion), "knowledge_num": String(knowledgeNum),
            "knowledge_length": String(knowledgeLength), "knowledge_dim": String(knowledgeDim), "tokenizer_sha256": tokenizerSHA256,
            "pad_token_id": String(padTokenId), "embedder": embedder, "lexical_fields": lexicalFields.rawValue,
        ]
    }

    static func read(from database: BankDatabase) throws -> BankMetadata {
        let statement = try database.prepare("SELECT key, value FROM meta")
        try statement.bind([])
        var values: [String: String] = [:]
        while try statement.step() { values[statement.text(0)] = statement.text(1) }
        return try BankMetadata(values, file: database.path)
    }

    static func createSchema(in database: BankDatabase) throws {
        try database.execute("""
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            \(RowStorage.createTables)
            CREATE TABLE edits (id INTEGER PRIMARY KEY, time TEXT NOT NULL, row INTEGER NOT NULL, action TEXT NOT NULL, old TEXT, new TEXT);
            CREATE INDEX edits_by_row ON edits (row);
            """)
    }

    func write(to database: BankDatabase) throws {
        let insert = try database.prepare("INSERT INTO meta (key, value) VALUES (?, ?)")
        for (key, value) in dictionary.sorted(by: { $0.key < $1.key }) { try insert.run([.text(key), .text(value)]) }
    }

    /// The index's `keys`, checked against the metadata; nil for a bank without keys.
    func checkedKeys(_ index: SafeTensorsFile, file: String) throws -> Tensor? {
        guard knowledgeDim > 0 else {
            guard index.entry("keys") == nil else { throw MemoryBankError("\(file): holds \"keys\" but knowledge_dim is 0") }
            return nil
        }
        let side = Int(Double(knowledgeNum).squareRoot().rounded())
        guard let entry = index.entry("keys"), entry.shape == [2, side, knowledgeDim / 2] else {
            let found = index.entry("keys").map { "shape \($0.shape)" } ?? "no tensor"
            throw MemoryBankError("\(file): \"keys\" must be [2, \(side), \(knowledgeDim / 2)] (knowledge_num \(knowledgeNum), knowledge_dim \(knowledgeDim)), found \(found)")
        }
        do { return try index.tensor("keys") } catch { throw MemoryBankError("\(error)") }
    }

    /// Refuses a row the bank cannot hold, naming it (`what`) and the problem.
    func check(_ row: MemoryRow, tokenizer: BankTokenizer, what: String) throws {
        func fail(_ problem: String) -> MemoryBankError { MemoryBankError("\(what): \(problem)") }
        guard !row.tokens.isEmpty, row.tokens.count <= knowledgeLength else {
            throw fail("\(row.tokens.count) tokens, a row holds 1...\(knowledgeLength) (knowledge_length)")
        }
        guard row.objectLength >= 0, row.objectLength <= row.tokens.count else {
            throw fail("object_length \(row.objectLength) is not within the row's \(row.tokens.count) tokens")
        }
        let vocabulary = tokenizer.tokenizer.vocabularySize
        if let bad = row.tokens.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw fail("token id \(bad) is outside the tokenizer's vocabulary (0..<\(vocabulary))")
        }
        guard row.cell >= -1, Int(row.cell) < knowledgeNum else { throw fail("cell \(row.cell) is outside the grid (-1..<\(knowledgeNum))") }
        if let key = row.key {
            guard knowledgeDim > 0, key.count == knowledgeDim else {
                throw fail("key embedding of \(key.count) values, the bank's keys are \(knowledgeDim) wide (knowledge_dim)")
            }
            guard key.allSatisfy({ $0.isFinite }) else { throw fail("key embedding holds a value that is not finite") }
        }
    }
}

extension BankMetadata {
    /// Reads and checks the metadata of `file`.
    init(_ values: [String: String], file: String) throws {
        func fail(_ what: String) -> MemoryBankError { MemoryBankError("\(file): \(what)") }
        guard values["format"] == MemoryBank.format else {
            throw fail("metadata \"format\" is \(values["format"].map { "\"\($0)\"" } ?? "missing"), not \"\(MemoryBank.format)\"")
        }
        guard values["version"] == String(MemoryBank.formatVersion) else {
            throw fail("bank format version \(values["version"] ?? "missing") is not supported (this build reads version \(MemoryBank.formatVersion))")
        }
        func number(_ key: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let text = values[key], let v = Int(text), range.contains(v) else {
                throw fail("metadata \"\(key)\" is \(values[key].map { "\"\($0)\"" } ?? "missing"), expected an integer in \(range)")
            }
            return v
        }
        knowledgeNum = try number("knowledge_num", 1...(1 << 26))
        knowledgeLength = try number("knowledge_length", 1...1024)
        knowledgeDim = try number("knowledge_dim", 0...(1 << 20))
        let pad = try number("pad_token_id", 0...Int(Int32.max))
        padTokenId = Int32(pad)
        guard let sha = values["tokenizer_sha256"], sha.count == 64, sha.allSatisfy({ $0.isHexDigit }) else {
            throw fail("metadata \"tokenizer_sha256\" is missing or not 64 hex digits")
        }
        tokenizerSHA256 = sha
        embedder = values["embedder"] ?? ""
        let fields = values["lexical_fields"] ?? LexicalFields.text.rawValue
        guard let lexicalFields = LexicalFields(rawValue: fields) else {
            throw fail("metadata \"lexical_fields\" is \"\(fields)\", expected one of \(LexicalFields.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
        }
        self.lexicalFields = lexicalFields
        let side = Int(Double(knowledgeNum).squareRoot().rounded())
        guard side * side == knowledgeNum else { throw fail("knowledge_num \(knowledgeNum) is not a perfect square") }
        guard knowledgeDim % 2 == 0 else { throw fail("knowledge_dim \(knowledgeDim) is odd") }
    }
}
