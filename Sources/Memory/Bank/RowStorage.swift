import Tokenizers

/// How a row is stored in the `rows` table (bank format 2), and read back.
///
/// A row's text and metadata mostly repeat what its tokens already hold, so they are stored as
/// references where they can be, and as text only where they cannot (measured at 1,048,576 rows:
/// 183 MB in format 1, see BENCHMARKS.md):
/// - `text_prefix` is the byte count of the decoded sentence tokens (the tokens before the appended
///   object) when they are the first bytes of the text; `text` then holds only the rest (a row cut
///   to L_k keeps its tail there). With `text_prefix` 0, `text` is the whole text. Byte-level BPE
///   makes the decoded bytes of a text's first ids the first bytes of the (normalised) text.
/// - `subject` and `object` (no declared type, so SQLite keeps what is stored) hold TEXT, or an
///   INTEGER span `offset << 16 | length` of the text's UTF-8 bytes; `object` is NULL when it is the
///   decode of the row's object tokens.
/// - `predicate` and `source` are ids into the `names` table, since a bank repeats a few of them.
struct RowStorage {
    /// What the in-memory view and BM25 read of every row at open; `columns` begins with them, so
    /// both statements share the column indices `row(from:)` and `lexicalParts(from:)` read.
    static let viewColumns = "tokens, object_length, cell, text_prefix, text, uuid, subject, predicate"
    static let columns = viewColumns + ", object, source, key"
    static let columnCount = 11
    static let insertRow = "INSERT INTO rows (row, \(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    static let upsertRow = "INSERT OR REPLACE INTO rows (row, \(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    static let selectRow = "SELECT \(columns) FROM rows WHERE row = ?"
    /// Every stored row in order, its index last (`row(from:)` reads the same columns).
    static let selectAllRows = "SELECT \(columns), row FROM rows ORDER BY row"
    /// Every stored row's view columns in order, its index last (column 8).
    static let selectAllViews = "SELECT \(viewColumns), row FROM rows ORDER BY row"
    static let selectAllUUIDs = "SELECT uuid, row FROM rows WHERE uuid != ''"
    static let countForms = """
        SELECT count(*), total(text_prefix > 0), total(typeof(subject) = 'integer'), total(object IS NULL), total(typeof(object) = 'integer')
        FROM rows
        """
    static let createTables = """
        CREATE TABLE rows (row INTEGER PRIMARY KEY, tokens BLOB NOT NULL, object_length INTEGER NOT NULL, cell INTEGER NOT NULL,
            text_prefix INTEGER NOT NULL, text TEXT NOT NULL, uuid TEXT NOT NULL, subject NOT NULL, predicate INTEGER NOT NULL,
            object, source INTEGER NOT NULL, key BLOB);
        CREATE TABLE names (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE);
        """

    let tokenizer: BPETokenizer
    let names: BankNames
    let limit: Int
    let dimension: Int

    // MARK: writing

    func values(of row: MemoryRow, at index: Int) throws -> [BankStatement.Value] {
        let text = Array(row.text.utf8)
        let prefix = textPrefix(of: row, text: text)
        let objectDecoded = tokenizer.bytes(of: row.objectTokens)
        return [
            .integer(Int64(index)), .blob(PackedTokens.pack(row.tokens)), .integer(Int64(row.objectLength)), .integer(Int64(row.cell)),
            .integer(Int64(prefix)), .text(String(decoding: text[prefix...], as: UTF8.self)), .text(row.uuid),
            Self.reference(row.subject, in: text), .integer(try names.id(for: row.predicate)),
            Array(row.object.utf8) == objectDecoded ? .null : Self.reference(row.object, in: text),
            .integer(try names.id(for: row.source)), Self.keyValue(row.key),
        ]
    }

    /// How many of the text's first bytes the decoded sentence tokens give (0: none usable).
    private func textPrefix(of row: MemoryRow, text: [UInt8]) -> Int {
        let decoded = tokenizer.bytes(of: row.tokens.dropLast(row.objectLength))
        guard !decoded.isEmpty, decoded.count <= text.count, text.starts(with: decoded) else { return 0 }
        // The rest must be text of its own: it may not begin inside a multi-byte character.
        if decoded.count < text.count, text[decoded.count] & 0xC0 == 0x80 { return 0 }
        return decoded.count
    }

    /// A span of `text` when `value` occurs in it, else `value` itself.
    private static func reference(_ value: String, in text: [UInt8]) -> BankStatement.Value {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty, bytes.count < 1 << 16, let offset = firstOffset(of: bytes, in: text), offset < 1 << 16 else {
            return .text(value)
        }
        return .integer(Int64(offset << 16 | bytes.count))
    }

    private static func firstOffset(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<start + needle.count].elementsEqual(needle) { return start }
        }
        return nil
    }

    /// A key embedding as little-endian F16 bytes.
    private static func keyValue(_ key: [Float]?) -> BankStatement.Value {
        guard let key else { return .null }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 * key.count)
        for v in key {
            let bits = Float16(v).bitPattern
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
        }
        return .blob(bytes)
    }

    // MARK: reading

    /// The row of a `selectRow` result; `corrupt` makes the error for a malformed record.
    func row(from s: BankStatement, corrupt: (String) -> MemoryBankError) throws -> MemoryRow {
        guard case .blob(let packed) = s.value(0), let tokens = PackedTokens.unpack(packed, limit: limit), !tokens.isEmpty else {
            throw corrupt("the tokens are not 1...\(limit) packed ids")
        }
        let objectLength = try Self.objectLength(s, tokenCount: tokens.count, corrupt: corrupt)
        let text = try self.text(tokens: tokens, from: s, corrupt: corrupt)
        let key = s.isNull(10) ? nil : try s.withBlob(10) { try Self.key(from: $0, dimension: dimension, corrupt: corrupt) }
        let object = s.isNull(8)
            ? String(decoding: tokenizer.bytes(of: tokens.suffix(objectLength)), as: UTF8.self)
            : try Self.resolve(s.value(8), in: text, field: "object", corrupt: corrupt)
        return MemoryRow(tokens: tokens, objectLength: objectLength, text: String(decoding: text, as: UTF8.self), uuid: s.text(5),
                         subject: try Self.resolve(s.value(6), in: text, field: "subject", corrupt: corrupt),
                         predicate: try names.value(of: s.integer(7), corrupt: corrupt), object: object,
                         source: try names.value(of: s.integer(9), corrupt: corrupt), cell: Int32(s.integer(2)), key: key)
    }

    /// A key embedding from its little-endian F16 bytes.
    static func key(from blob: UnsafeRawBufferPointer, dimension: Int, corrupt: (String) -> MemoryBankError) throws -> [Float] {
        guard blob.count == 2 * dimension else { throw corrupt("the key embedding has \(blob.count) bytes, expected \(2 * dimension)") }
        return (0..<dimension).map { Float(Float16(bitPattern: UInt16(littleEndian: blob.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
    }

    /// Column 1 of `s`, the object's token count, which must lie within the row's `tokenCount` tokens.
    private static func objectLength(_ s: BankStatement, tokenCount: Int, corrupt: (String) -> MemoryBankError) throws -> Int {
        let objectLength = Int(s.integer(1))
        guard objectLength >= 0, objectLength <= tokenCount else { throw corrupt("object_length \(objectLength) is out of range") }
        return objectLength
    }

    /// The text's UTF-8 bytes from the row's tokens and columns 1, 3 and 4 of `s`.
    private func text(tokens: some Collection<Int32>, from s: BankStatement, corrupt: (String) -> MemoryBankError) throws -> [UInt8] {
        let objectLength = try Self.objectLength(s, tokenCount: tokens.count, corrupt: corrupt)
        let prefix = Int(s.integer(3))
        guard prefix > 0 else { return Array(s.text(4).utf8) }
        let decoded = tokenizer.bytes(of: tokens.dropLast(objectLength))
        guard decoded.count == prefix else {
            throw corrupt("text_prefix \(prefix) does not match the \(decoded.count) bytes of the row's sentence tokens")
        }
        return decoded + s.text(4).utf8
    }

    /// What BM25 reads of a row (text, subject, predicate) from its view columns in `s` and its
    /// already unpacked `tokens`, without the rest of the row.
    func lexicalParts(tokens: some Collection<Int32>, from s: BankStatement,
                      corrupt: (String) -> MemoryBankError) throws -> (text: String, subject: String, predicate: String)
    {
        let text = try self.text(tokens: tokens, from: s, corrupt: corrupt)
        return (String(decoding: text, as: UTF8.self), try Self.resolve(s.value(6), in: text, field: "subject", corrupt: corrupt),
                try names.value(of: s.integer(7), corrupt: corrupt))
    }

    private static func resolve(_ value: BankStatement.Value, in text: [UInt8], field: String,
                                corrupt: (String) -> MemoryBankError) throws -> String
    {
        switch value {
        case .text(let literal): return literal
        case .integer(let span):
            let offset = Int(span >> 16), length = Int(span & 0xFFFF)
            guard span >= 0, offset + length <= text.count else { throw corrupt("\(field) span \(offset)+\(length) is outside the text") }
            return String(decoding: text[offset..<offset + length], as: UTF8.self)
        default: throw corrupt("\(field) is neither text nor a span of the text")
        }
    }
}

/// How many rows store their text, subject and object by reference (see `RowStorage`).
public struct RowStorageCounts: Equatable, Sendable {
    public var rows = 0
    /// The text's first bytes are the decoded sentence tokens.
    public var textFromTokens = 0
    public var subjectAsSpan = 0
    /// The object is the decode of the object tokens.
    public var objectFromTokens = 0
    public var objectAsSpan = 0

    public init(rows: Int = 0, textFromTokens: Int = 0, subjectAsSpan: Int = 0, objectFromTokens: Int = 0, objectAsSpan: Int = 0) {
        self.rows = rows
        self.textFromTokens = textFromTokens
        self.subjectAsSpan = subjectAsSpan
        self.objectFromTokens = objectFromTokens
        self.objectAsSpan = objectAsSpan
    }
}

/// The `names` table: the predicates and sources rows refer to by id. Ids are cached once their
/// transaction has committed; one added by a transaction that rolls back is forgotten with it.
final class BankNames {
    private let database: BankDatabase
    private var ids: [String: Int64] = [:]
    private var values: [Int64: String] = [:]
    private var pending: [String: Int64] = [:]

    init(database: BankDatabase) throws {
        self.database = database
        let statement = try database.prepare("SELECT id, value FROM names")
        try statement.bind([])
        while try statement.step() {
            ids[statement.text(1)] = statement.integer(0)
            values[statement.integer(0)] = statement.text(1)
        }
    }

    /// The id of `value`, added to the table (inside the caller's transaction) when it is new.
    func id(for value: String) throws -> Int64 {
        if let id = ids[value] ?? pending[value] { return id }
        try database.cached("INSERT OR IGNORE INTO names (value) VALUES (?)").run([.text(value)])
        let select = try database.cached("SELECT id FROM names WHERE value = ?")
        defer { select.reset() }
        try select.bind([.text(value)])
        guard try select.step() else { throw MemoryBankError("\(database.path): cannot add \"\(value)\" to the names table") }
        pending[value] = select.integer(0)
        return select.integer(0)
    }

    func value(of id: Int64, corrupt: (String) -> MemoryBankError) throws -> String {
        if let value = values[id] { return value }
        if let (value, _) = pending.first(where: { $0.value == id }) { return value }
        throw corrupt("name id \(id) is not in the names table")
    }

    /// The transaction that added the pending names committed (true) or rolled back.
    func finish(committed: Bool) {
        if committed {
            for (value, id) in pending {
                ids[value] = id
                values[id] = value
            }
        }
        pending = [:]
    }
}
