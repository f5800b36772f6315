import Foundation
import JSON

/// A BERT tokenizer read from a Hugging Face tokenizer.json: added (special) tokens matched in the
/// raw text, the BERT normaliser and pre-tokenizer, WordPiece with a continuing-subword prefix and an
/// unknown token, and the [CLS] … [SEP] post-processing. Ids equal those of the `tokenizers` library.
public struct WordPieceTokenizer: Sendable {
    /// Vocabulary keyed by UTF-8 bytes: Swift `String` equality is canonical equivalence, the
    /// reference compares bytes.
    let vocab: [[UInt8]: Int32]
    public let vocabSize: Int
    public let normalizer: BertNormalizer
    public let unkId: Int32
    public let continuingSubwordPrefix: [UInt8]
    public let maxInputCharsPerWord: Int
    /// Ids the post-processor puts before and after the sequence ([CLS] and [SEP] for BERT).
    public let prefixIds: [Int32], suffixIds: [Int32]
    /// The padding id (tokenizer.json `padding.pad_id`, else [PAD], else 0).
    public let padId: Int32
    /// tokenizer.json's own truncation length, if it sets one.
    public let truncationMaxLength: Int?
    let addedTokens: [AddedToken]

    struct AddedToken: Sendable {
        let content: [Unicode.Scalar]
        let id: Int32
        let normalized: Bool
    }

    public init(url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw WordPieceError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        do { try self.init(json: data) } catch let error as WordPieceError {
            throw WordPieceError("\(url.path): \(error.message)")
        }
    }

    /// Parses tokenizer.json's bytes (once, in place) and builds the tokenizer.
    public init(json data: Data) throws {
        let root: JSONValue
        do {
            // Duplicate keys: the last wins, as in the `tokenizers` library.
            root = try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in try JSONValue.parse(bytes, options: .huggingFace) }
        } catch let error as JSONParseError {
            throw WordPieceError("invalid JSON: \(error)")
        }
        try self.init(json: root)
    }

    /// Builds the tokenizer from parsed tokenizer.json contents.
    public init(json root: JSONValue) throws {
        guard root.objectValue != nil else { throw WordPieceError("the top level is not a JSON object") }
        let top = JSONMembers(root, path: "")
        guard let model = try top.object("model") else { throw WordPieceError("key 'model' is missing") }
        let type = try model.string("type") ?? "(none)"
        guard type == "WordPiece" else { throw WordPieceError("model.type '\(type)' is not supported (only 'WordPiece')") }
        // JSONValue keeps every key's bytes (a Swift dictionary would merge canonically equivalent
        // keys such as NFC "é" and NFD "é", which the reference keeps apart).
        guard let vocabPairs = model["vocab"]?.objectValue else { throw WordPieceError("key 'model.vocab' is missing or not an object") }
        var vocab: [[UInt8]: Int32] = [:]
        vocab.reserveCapacity(vocabPairs.count)
        var maxId = -1
        for (token, value) in vocabPairs {
            guard let id = value.intValue, id >= 0, id <= Int(Int32.max) else {
                throw WordPieceError("model.vocab['\(token)'] is not a non-negative integer id")
            }
            vocab[Array(token.utf8)] = Int32(id)
            maxId = max(maxId, id)
        }
        self.vocab = vocab
        vocabSize = maxId + 1
        let unk = try model.string("unk_token") ?? "[UNK]"
        guard let unkId = vocab[Array(unk.utf8)] else { throw WordPieceError("model.unk_token '\(unk)' is not in model.vocab") }
        self.unkId = unkId
        continuingSubwordPrefix = Array((try model.string("continuing_subword_prefix") ?? "##").utf8)
        maxInputCharsPerWord = try model.count("max_input_chars_per_word") ?? 100

        normalizer = try Self.parseNormalizer(try top.object("normalizer"))
        if let pre = try top.object("pre_tokenizer") {
            let preType = try pre.string("type") ?? "(none)"
            guard preType == "BertPreTokenizer" else {
                throw WordPieceError("pre_tokenizer.type '\(preType)' is not supported (only 'BertPreTokenizer')")
            }
        }
        (prefixIds, suffixIds) = try Self.parsePostProcessor(try top.object("post_processor"), vocab: vocab)

        var added: [AddedToken] = []
        for (i, item) in (try top.array("added_tokens") ?? []).enumerated() {
            let entry = JSONMembers(item, path: "added_tokens[\(i)]")
            guard item.objectValue != nil, let content = try entry.string("content"), let id = try entry.id("id") else {
                throw WordPieceError("added_tokens[\(i)] lacks 'content' or 'id'")
            }
            if try entry.bool("single_word") == true {
                throw WordPieceError("added_tokens[\(i)] '\(content)': single_word is not supported")
            }
            let normalized = try entry.bool("normalized") ?? !(try entry.bool("special") ?? false)
            added.append(AddedToken(content: Array(content.unicodeScalars), id: id, normalized: normalized))
        }
        // Longest first, so that the first match at a position is the leftmost-longest one.
        addedTokens = added.filter { !$0.content.isEmpty }.sorted { $0.content.count > $1.content.count }

        padId = try top.object("padding")?.id("pad_id") ?? vocab[Array("[PAD]".utf8)] ?? 0
        truncationMaxLength = try top.object("truncation")?.count("max_length")
    }

    /// The ids of `text` with [CLS]/[SEP], truncated so that at most `maxLength` ids come out
    /// (the reference's longest-first truncation, which for one sequence keeps its beginning).
    public func encode(_ text: String, maxLength: Int? = nil) -> [Int32] {
        // Words are tokenised independently, so stopping once the room is full is exact.
        let room = maxLength.map { max(0, $0 - prefixIds.count - suffixIds.count) } ?? Int.max
        var ids: [Int32] = []
        segments: for segment in split(Array(text.unicodeScalars), normalizedTokens: false) {
            switch segment {
            case .added(let id): ids.append(id)
            case .text(let raw):
                for piece in split(normalizer.normalize(Array(raw)), normalizedTokens: true) {
                    switch piece {
                    case .added(let id): ids.append(id)
                    case .text(let normalized):
                        for word in BertNormalizer.preTokenize(Array(normalized)) {
                            if ids.count >= room { break segments }
                            wordPiece(word, into: &ids)
                        }
                    }
                }
            }
            if ids.count >= room { break }
        }
        if ids.count > room { ids.removeLast(ids.count - room) }
        return prefixIds + ids + suffixIds
    }

    /// The id of a token string, if it is in the vocabulary.
    public func id(of token: String) -> Int32? { vocab[Array(token.utf8)] }

    enum Segment { case text(ArraySlice<Unicode.Scalar>), added(Int32) }

    /// Splits out the added tokens of one kind (matched before or after normalisation).
    func split(_ text: [Unicode.Scalar], normalizedTokens: Bool) -> [Segment] {
        let candidates = addedTokens.filter { $0.normalized == normalizedTokens }
        if candidates.isEmpty { return [.text(text[...])] }
        var segments: [Segment] = []
        var start = 0, i = 0
        while i < text.count {
            if let token = candidates.first(where: { t in
                i + t.content.count <= text.count && text[i..<(i + t.content.count)].elementsEqual(t.content)
            }) {
                if start < i { segments.append(.text(text[start..<i])) }
                segments.append(.added(token.id))
                i += token.content.count
                start = i
            } else {
                i += 1
            }
        }
        if start < text.count { segments.append(.text(text[start..<text.count])) }
        return segments
    }

    /// Greedy longest-match-first WordPiece; a word with any unmatched rest becomes one unknown token.
    func wordPiece(_ word: ArraySlice<Unicode.Scalar>, into ids: inout [Int32]) {
        if word.count > maxInputCharsPerWord { ids.append(unkId); return }
        var bytes: [UInt8] = [], offsets: [Int] = [0]
        for s in word {
            bytes.append(contentsOf: UTF8.encode(s)!)
            offsets.append(bytes.count)
        }
        let n = word.count
        var pieces: [Int32] = []
        var start = 0
        var key: [UInt8] = []
        while start < n {
            var end = n
            var found: Int32?
            while start < end {
                key.removeAll(keepingCapacity: true)
                if start > 0 { key.append(contentsOf: continuingSubwordPrefix) }
                key.append(contentsOf: bytes[offsets[start]..<offsets[end]])
                if let id = vocab[key] { found = id; break }
                end -= 1
            }
            guard let id = found else { ids.append(unkId); return }
            pieces.append(id)
            start = end
        }
        ids.append(contentsOf: pieces)
    }

    /// BertNormalizer; none (absent or null) changes nothing.
    static func parseNormalizer(_ n: JSONMembers?) throws -> BertNormalizer {
        guard let n else { return BertNormalizer(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false) }
        let type = try n.string("type") ?? "(none)"
        guard type == "BertNormalizer" else { throw WordPieceError("normalizer.type '\(type)' is not supported (only 'BertNormalizer')") }
        return BertNormalizer(
            cleanText: try n.bool("clean_text") ?? true, handleChineseChars: try n.bool("handle_chinese_chars") ?? true,
            stripAccents: try n.bool("strip_accents"), lowercase: try n.bool("lowercase") ?? true)
    }

    /// TemplateProcessing (single-sequence template) or BertProcessing; none adds nothing.
    static func parsePostProcessor(_ p: JSONMembers?, vocab: [[UInt8]: Int32]) throws -> ([Int32], [Int32]) {
        guard let p else { return ([], []) }
        let type = try p.string("type") ?? "(none)"
        func lookup(_ token: String, _ key: String) throws -> Int32 {
            guard let id = vocab[Array(token.utf8)] else { throw WordPieceError("post_processor.\(key): token '\(token)' is not in the vocabulary") }
            return id
        }
        switch type {
        case "BertProcessing":
            guard let cls = p["cls"]?.arrayValue?.first?.stringValue, let sep = p["sep"]?.arrayValue?.first?.stringValue else {
                throw WordPieceError("post_processor (BertProcessing) lacks 'cls' or 'sep'")
            }
            return ([try lookup(cls, "cls")], [try lookup(sep, "sep")])
        case "TemplateProcessing":
            guard let single = p["single"]?.arrayValue else { throw WordPieceError("post_processor.single is missing") }
            let specials = try p.object("special_tokens")
            var before: [Int32] = [], after: [Int32] = [], seenSequence = false
            for item in single {
                if item["Sequence"] != nil { seenSequence = true; continue }
                guard let name = item["SpecialToken"]?["id"]?.stringValue else {
                    throw WordPieceError("post_processor.single has an item that is neither SpecialToken nor Sequence")
                }
                var ids: [Int32] = []
                if let special = try specials?.object(name) {
                    for (i, value) in (try special.array("ids") ?? []).enumerated() {
                        guard let id = value.nonNegativeInt, id <= Int(Int32.max) else {
                            throw WordPieceError("post_processor.special_tokens['\(name)'].ids[\(i)] is not a non-negative integer id")
                        }
                        ids.append(Int32(id))
                    }
                }
                if ids.isEmpty { ids = [try lookup(name, "single")] }
                if seenSequence { after += ids } else { before += ids }
            }
            return (before, after)
        default:
            throw WordPieceError("post_processor.type '\(type)' is not supported (TemplateProcessing or BertProcessing)")
        }
    }
}

public struct WordPieceError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
