/// The memory bank (method §2, §3): N rows of at most L_k tokens, each with the fact's text and
/// metadata, a grid cell and a key embedding, and a log of every edit.
///
/// **Storage.** A bank is a directory:
/// - `bank.sqlite` (SQLite, WAL journal, synchronous=FULL): table `rows` holds one record per
///   non-empty row (an absent row is an empty slot): `row` (the bank row, the primary key), `tokens`
///   (the ids packed as unsigned LEB128, about 33 bytes for 16 Qwen3 tokens), `object_length`, `cell`,
///   the text and metadata (stored by reference to the tokens and text where they can be: see
///   `RowStorage`), and `key` (the key embedding as little-endian F16, or NULL); table `names` holds
///   the predicates and sources rows refer to. Table `edits` is the log: `time` (UTC, ISO 8601), `row`, `action`
///   (`edit`, `add`, `delete`), `old` and `new` (the row as JSON text, NULL for an empty row).
///   Table `meta` repeats the index's metadata so that the two files cannot be mixed up.
/// - `index.safetensors`: the static index, written once when the bank is built (atomically):
///   `keys` F32 [2, n, K/2] (the k-means row and column keys, absent for a bank without keys) and the
///   metadata `format` = `explicitlm-memory-bank`, `version`, `knowledge_num`, `knowledge_length`,
///   `knowledge_dim` (0 without keys), `tokenizer_sha256`, `pad_token_id`, `embedder`, `lexical_fields` (what BM25 indexes; absent: `text`).
///
/// **Edits.** Each edit is one SQLite transaction (BEGIN IMMEDIATE, the row's record, one log
/// record, COMMIT): it writes O(1) data, and with WAL and synchronous=FULL the commit has reached the
/// disk when the edit returns, so an acknowledged edit survives kill -9 and power loss, and an
/// unacknowledged one is either wholly there or wholly absent. The in-memory view and the BM25 index
/// change only after the commit succeeded; a refused edit changes nothing. One process edits a bank
/// at a time: an edit refuses to run when another connection has changed the bank since it was
/// opened (SQLite's data_version), since this process's view would then be stale.
///
/// **In memory** (loaded at open, for the fusion and the retrievers to read by row): `tokens` Int32
/// [N × L_k] right-padded with the pad id, `lengths` [N] (0 = empty slot, never a candidate),
/// `cells` [N] (−1 when empty), the CSR cell index on demand, and the lexical retriever's inverted
/// index, rebuilt from the rows' texts at open. Text, metadata and key embeddings stay on disk and
/// are read per row.
import Compute
import FileIO
import Foundation
import SafeTensors
import Tokenizers

public struct MemoryBankError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public final class MemoryBank {
    public static let format = "explicitlm-memory-bank"
    public static let formatVersion = 2
    public static let databaseName = "bank.sqlite"
    public static let indexName = "index.safetensors"
    /// The tokenizer's files, copied into the bank (tokenizer_config.json names its pad and eos).
    public static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json"]

    public let url: URL
    /// N, L_k, K (0 when the bank has no keys).
    public let knowledgeNum: Int
    public let knowledgeLength: Int
    public let knowledgeDim: Int
    public let tokenizerSHA256: String
    public let padTokenId: Int32
    /// What embedded the keys (a model directory or name, as the builder recorded it).
    public let embedder: String
    /// The fields of each row that BM25 indexes.
    public let lexicalFields: LexicalFields
    /// The k-means keys [2, n, K/2], nil when the bank has none.
    public let keys: Tensor?

    /// Row r's tokens are tokens[r·L_k ..< r·L_k + lengths[r]], the rest of the row the pad id.
    public private(set) var tokens: [Int32]
    public private(set) var lengths: [Int32]
    public private(set) var cells: [Int32]
    /// BM25 over the rows' texts (and, by `lexicalFields`, subjects and predicates), kept current by every edit.
    public private(set) var lexical: LexicalRetriever

    public let tokenizer: BankTokenizer
    let database: BankDatabase
    private let storage: RowStorage
    private let metadata: BankMetadata
    private var dataVersion: Int64
    private var cellIndexCache: (offsets: [Int32], entries: [Int32])?
    private var keyGridCache: KeyGrid?

    /// n = √N.
    public var gridSide: Int { Int(Double(knowledgeNum).squareRoot().rounded()) }
    public var databaseURL: URL { url.appendingPathComponent(Self.databaseName) }

    private init(url: URL, metadata: BankMetadata, keys: Tensor?, tokenizer: BankTokenizer, database: BankDatabase) throws {
        self.url = url
        knowledgeNum = metadata.knowledgeNum
        knowledgeLength = metadata.knowledgeLength
        knowledgeDim = metadata.knowledgeDim
        tokenizerSHA256 = metadata.tokenizerSHA256
        padTokenId = metadata.padTokenId
        embedder = metadata.embedder
        lexicalFields = metadata.lexicalFields
        self.keys = keys
        self.metadata = metadata
        self.tokenizer = tokenizer
        self.database = database
        storage = RowStorage(tokenizer: tokenizer.tokenizer, names: try BankNames(database: database), limit: metadata.knowledgeLength,
                             dimension: metadata.knowledgeDim)
        dataVersion = 0
        tokens = []
        lengths = []
        cells = []
        lexical = LexicalRetriever(rowCount: 0, texts: [(row: Int, text: String)]())
        dataVersion = try currentDataVersion()
        try load()
    }

    // MARK: opening

    /// Opens the bank at `url`, refusing it when it was built with another tokenizer (sha256 of
    /// tokenizer.json) or when its files disagree. Opening changes no row and no log record.
    public static func open(at url: URL, tokenizer: BankTokenizer) throws -> MemoryBank {
        let indexURL = url.appendingPathComponent(indexName), databaseURL = url.appendingPathComponent(databaseName)
        for file in [indexURL, databaseURL] where !FileManager.default.fileExists(atPath: file.path) {
            throw MemoryBankError("\(url.path): not a memory bank: \(file.lastPathComponent) is missing")
        }
        let index: SafeTensorsFile
        do { index = try SafeTensorsFile(url: indexURL) } catch { throw MemoryBankError("\(error)") }
        let metadata = try BankMetadata(index.metadata, file: indexURL.path)
        guard metadata.tokenizerSHA256 == tokenizer.sha256 else {
            throw MemoryBankError(
                "\(url.path): the bank was built with another tokenizer (tokenizer.json sha256 \(metadata.tokenizerSHA256), given \(tokenizer.sha256)); rebuild the bank or use its tokenizer")
        }
        guard metadata.padTokenId == tokenizer.padTokenId else {
            throw MemoryBankError("\(url.path): the bank pads with id \(metadata.padTokenId), the tokenizer with \(tokenizer.padTokenId)")
        }
        let keys = try metadata.checkedKeys(index, file: indexURL.path)
        let database = try BankDatabase(path: databaseURL.path, create: false)
        // A commit reaches the disk before an edit returns (synchronous is per connection).
        try database.execute("PRAGMA synchronous=FULL")
        let stored = try BankMetadata.read(from: database)
        guard stored == metadata else {
            throw MemoryBankError("\(url.path): \(databaseName) and \(indexName) belong to different banks (their metadata differ)")
        }
        return try MemoryBank(url: url, metadata: metadata, keys: keys, tokenizer: tokenizer, database: database)
    }

    /// Reads every row into the in-memory view and builds the BM25 index.
    private func load() throws {
        let n = knowledgeNum, lk = knowledgeLength
        var tokens = [Int32](repeating: padTokenId, count: n * lk)
        var lengths = [Int32](repeating: 0, count: n)
        var cells = [Int32](repeating: -1, count: n)
        var texts: [(row: Int, text: String)] = []
        let vocabulary = tokenizer.tokenizer.vocabularySize
        let statement = try database.prepare(RowStorage.selectAllViews)
        try statement.bind([])
        while try statement.step() {
            let row = statement.integer(8)
            guard row >= 0, row < n else { throw corrupt("row \(row) is outside the bank (0..<\(n))") }
            let r = Int(row)
            let count = statement.withBlob(0) { blob in
                tokens.withUnsafeMutableBufferPointer { all in
                    PackedTokens.unpack(blob, into: UnsafeMutableBufferPointer(rebasing: all[r * lk..<(r + 1) * lk]), limit: lk)
                }
            }
            guard let count, count > 0 else { throw corrupt("row \(r): the tokens are not 1...\(lk) packed ids") }
            if let bad = tokens[r * lk..<r * lk + count].first(where: { $0 < 0 || Int($0) >= vocabulary }) {
                throw corrupt("row \(r): token id \(bad) is outside the tokenizer's vocabulary (0..<\(vocabulary))")
            }
            let cell = statement.integer(2)
            guard cell >= -1, cell < n else { throw corrupt("row \(r): cell \(cell) is outside the grid (-1..<\(n))") }
            lengths[r] = Int32(count)
            cells[r] = Int32(cell)
            let parts = try storage.lexicalParts(tokens: tokens[r * lk..<r * lk + count], from: statement) {
                corrupt("row \(r): \($0)")
            }
            texts.append((r, lexicalFields.document(text: parts.text, subject: parts.subject, predicate: parts.predicate)))
        }
        self.tokens = tokens
        self.lengths = lengths
        self.cells = cells
        lexical = LexicalRetriever(rowCount: n, texts: texts)
    }

    private func corrupt(_ what: String) -> MemoryBankError { MemoryBankError("\(databaseURL.path): \(what)") }

    // MARK: creating

    /// Builds a bank at `url` from already tokenised rows in knowledge-base order (row i = the i-th
    /// fact; rows after them are empty) and, when the bank has keys, the k-means keys [2, n, K/2].
    /// `config` gives N (`knowledgeNum`) and L_k (`knowledgeLength`). The directory appears whole or
    /// not at all; an existing bank there is replaced, any other directory refused.
    @discardableResult
    public static func create(at url: URL, rows: some Sequence<MemoryRow>, tokenizer: BankTokenizer, config: MemoryConfig,
                              keys: Tensor? = nil, embedder: String = "", lexicalFields: LexicalFields = .text) throws -> MemoryBank
    {
        let n = config.knowledgeNum, lk = config.knowledgeLength
        let side = Int(Double(n).squareRoot().rounded())
        guard n >= 1, n <= 1 << 26, side * side == n else {
            throw MemoryBankError("\(url.path): knowledge_num \(n) must be a perfect square in 1...\(1 << 26)")
        }
        guard lk >= 1, lk <= 1024 else { throw MemoryBankError("\(url.path): knowledge_length \(lk) must be in 1...1024") }
        var dim = 0
        if let keys {
            guard keys.shape.count == 3, keys.shape[0] == 2, keys.shape[1] == side, keys.shape[2] >= 1 else {
                throw MemoryBankError("\(url.path): keys have shape \(keys.shape), expected [2, \(side), K/2]")
            }
            dim = 2 * keys.shape[2]
            if let k = config.knowledgeDim, k != dim {
                throw MemoryBankError("\(url.path): keys have K = \(dim), the configuration says knowledge_dim \(k)")
            }
        }
        let metadata = BankMetadata(knowledgeNum: n, knowledgeLength: lk, knowledgeDim: dim, tokenizerSHA256: tokenizer.sha256,
                                    padTokenId: tokenizer.padTokenId, embedder: embedder, lexicalFields: lexicalFields)
        try AtomicDirectory.write(to: url, replacing: refuseUnlessBank) { directory in
            let database = try BankDatabase(path: directory.appendingPathComponent(databaseName).path, create: true)
            // The directory is not published before it is complete and synced: no journal while filling it.
            try database.execute("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF")
            try BankMetadata.createSchema(in: database)
            try database.transaction {
                try metadata.write(to: database)
                let storage = RowStorage(tokenizer: tokenizer.tokenizer, names: try BankNames(database: database), limit: lk, dimension: dim)
                let insert = try database.prepare(RowStorage.insertRow)
                var count = 0
                for row in rows {
                    guard count < n else { throw MemoryBankError("\(url.path): more facts than the bank's \(n) rows (knowledge_num)") }
                    try metadata.check(row, tokenizer: tokenizer, what: "\(url.path): fact \(count)")
                    try insert.run(try storage.values(of: row, at: count))
                    count += 1
                }
            }
            try database.execute("PRAGMA journal_mode=WAL")
            try syncFile(directory.appendingPathComponent(databaseName).path)
            // The tokenizer travels with the bank: edits re-tokenise with it, and its sha256 is checked.
            try FileManager.default.copyItem(at: tokenizer.file, to: directory.appendingPathComponent(tokenizerFiles[0]))
            let config = tokenizer.file.deletingLastPathComponent().appendingPathComponent(tokenizerFiles[1])
            if FileManager.default.fileExists(atPath: config.path) {
                try FileManager.default.copyItem(at: config, to: directory.appendingPathComponent(tokenizerFiles[1]))
            }
            var writer = SafeTensorsWriter()
            if let keys { writer.add("keys", keys) }
            try writer.write(to: directory.appendingPathComponent(indexName), metadata: metadata.dictionary)
        }
        return try open(at: url, tokenizer: tokenizer)
    }

    /// Only a directory holding nothing but a bank's files may be replaced by a new bank.
    private static func refuseUnlessBank(_ url: URL) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
        let bankFiles = Set([databaseName, databaseName + "-wal", databaseName + "-shm", indexName] + tokenizerFiles)
        if let other = names.first(where: { !bankFiles.contains($0) }) {
            throw MemoryBankError("\(url.path): exists and holds \(other), not only a memory bank; refusing to replace it")
        }
    }

    private static func syncFile(_ path: String) throws {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MemoryBankError("\(path): cannot open to sync: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw MemoryBankError("\(path): cannot sync: \(String(cString: strerror(errno)))") }
    }

    // MARK: reading

    /// Row `row` with its metadata, or nil when it is an empty slot.
    public func row(_ row: Int) throws -> MemoryRow? {
        try checkInside(row)
        return try readRow(row)
    }

    /// Every non-empty row with its index, in bank order.
    public func allRows() throws -> [(index: Int, row: MemoryRow)] {
        let statement = try database.prepare(RowStorage.selectAllRows)
        var rows: [(index: Int, row: MemoryRow)] = []
        while try statement.step() {
            let index = Int(statement.integer(Int32(RowStorage.columnCount)))
            rows.append((index, try storage.row(from: statement) { corrupt("row \(index): \($0)") }))
        }
        return rows
    }

    /// The row of each fact uuid (method §7: `fact_uuid` names a gold row); a uuid held by several
    /// rows maps to the first.
    public func rowsByUUID() throws -> [String: Int] {
        let statement = try database.prepare(RowStorage.selectAllUUIDs)
        var map: [String: Int] = [:]
        while try statement.step() {
            let row = Int(statement.integer(1))
            map[statement.text(0)] = min(map[statement.text(0)] ?? row, row)
        }
        return map
    }

    func readRow(_ row: Int) throws -> MemoryRow? {
        let statement = try database.cached(RowStorage.selectRow)
        defer { statement.reset() }
        try statement.bind([.integer(Int64(row))])
        guard try statement.step() else { return nil }
        return try storage.row(from: statement) { corrupt("row \(row): \($0)") }
    }

    func checkInside(_ row: Int) throws {
        guard row >= 0, row < knowledgeNum else {
            throw MemoryBankError("\(url.path): row \(row) is outside the bank (rows 0..<\(knowledgeNum))")
        }
    }

    /// The rows of each grid cell (method §3): cell c holds entries[offsets[c] ..< offsets[c + 1]],
    /// rows ascending. Built on demand and kept until the next edit.
    public func cellIndex() -> (offsets: [Int32], entries: [Int32]) {
        if let cellIndexCache { return cellIndexCache }
        let lists = KeyGrid.lists(cells, cellCount: knowledgeNum)
        cellIndexCache = lists
        return lists
    }

    /// The multi-index over the bank's keys and cells (method §3), for dense and encoder retrieval;
    /// nil when the bank has no keys. Built on demand (O(N)) and kept until the next edit.
    public func keyGrid() throws -> KeyGrid? {
        guard let keys else { return nil }
        if let keyGridCache { return keyGridCache }
        let grid = try KeyGrid(keys: keys, cells: cells)
        keyGridCache = grid
        return grid
    }

    /// Row `row`'s stored key embedding (K values), nil for an empty row or one without a key; reads
    /// only that column, for the encoder retriever's exact re-scoring.
    public func keyEmbedding(row: Int) throws -> [Float]? {
        try checkInside(row)
        let statement = try database.cached("SELECT key FROM rows WHERE row = ?")
        defer { statement.reset() }
        try statement.bind([.integer(Int64(row))])
        guard try statement.step(), !statement.isNull(0) else { return nil }
        return try statement.withBlob(0) { try RowStorage.key(from: $0, dimension: knowledgeDim) { corrupt("row \(row): \($0)") } }
    }

    /// How many rows store their text and metadata by reference (bank reports, tests).
    public func storageCounts() throws -> RowStorageCounts {
        let s = try database.prepare(RowStorage.countForms)
        try s.bind([])
        guard try s.step() else { throw corrupt("cannot count the rows") }
        func count(_ column: Int32) -> Int { Int(s.integer(column)) }
        return RowStorageCounts(rows: count(0), textFromTokens: count(1), subjectAsSpan: count(2), objectFromTokens: count(3), objectAsSpan: count(4))
    }

    /// SQLite's own check of the database file: "ok" when it is sound.
    public func integrityCheck() throws -> String {
        guard case .text(let result) = try database.scalar("PRAGMA integrity_check") else { return "no result" }
        return result
    }

    // MARK: writing (see MemoryBank+Edit.swift)

    func currentDataVersion() throws -> Int64 {
        guard case .integer(let v) = try database.scalar("PRAGMA data_version") else { throw corrupt("no data_version") }
        return v
    }

    /// Runs one write transaction on `row` (see the type's comment), then brings the in-memory view
    /// and the BM25 index to the committed row. `change` gets the stored row and returns the new one
    /// (nil: empty) with the log's action.
    @discardableResult
    func write(row: Int, _ change: (MemoryRow?) throws -> (new: MemoryRow?, action: String)) throws -> (old: MemoryRow?, new: MemoryRow?) {
        try checkInside(row)
        var committed = false
        defer { storage.names.finish(committed: committed) }
        let (old, new) = try database.transaction { () throws -> (MemoryRow?, MemoryRow?) in
            guard try currentDataVersion() == dataVersion else {
                throw MemoryBankError("\(url.path): another process changed the bank since it was opened; open it again to edit")
            }
            let old = try readRow(row)
            let (new, action) = try change(old)
            if let new {
                try metadata.check(new, tokenizer: tokenizer, what: "\(url.path): row \(row)")
                try database.cached(RowStorage.upsertRow).run(try storage.values(of: new, at: row))
            } else {
                try database.cached("DELETE FROM rows WHERE row = ?").run([.integer(Int64(row))])
            }
            try database.cached("INSERT INTO edits (time, row, action, old, new) VALUES (?, ?, ?, ?, ?)").run([
                .text(Self.timestamp()), .integer(Int64(row)), .text(action),
                Self.logValue(old), Self.logValue(new),
            ])
            return (old, new)
        }
        committed = true
        let lk = knowledgeLength
        for p in 0..<lk { tokens[row * lk + p] = p < (new?.tokens.count ?? 0) ? new!.tokens[p] : padTokenId }
        lengths[row] = Int32(new?.tokens.count ?? 0)
        cells[row] = new?.cell ?? -1
        cellIndexCache = nil
        keyGridCache = nil
        lexical.update(row: row, old: old.map(lexicalFields.document(of:)), new: new.map(lexicalFields.document(of:)))
        return (old, new)
    }

    private static func logValue(_ row: MemoryRow?) -> BankStatement.Value {
        guard let row else { return .null }
        return .text(row.logJSON)
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
