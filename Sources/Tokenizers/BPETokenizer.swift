import Foundation
import JSON

/// A byte-level BPE tokenizer read from a Hugging Face tokenizer.json (Qwen2/Qwen3 style): added tokens
/// matched first on the raw text, then NFC, the split regex, the byte-to-unicode mapping and BPE merges.
/// Nothing (no BOS) is added around the ids. Thread-safe.
public final class BPETokenizer: Sendable {
    /// Number of ids (the largest id + 1).
    public let vocabularySize: Int
    /// Added tokens from tokenizer.json, in file order.
    public let addedTokens: [AddedToken]
    /// End of sequence: tokenizer_config.json's `eos_token` when that file sits beside tokenizer.json,
    /// else `<|im_end|>`, else `<|endoftext|>`.
    public let eosTokenId: Int32?
    /// Padding: tokenizer_config.json's `pad_token`, else `<|endoftext|>`.
    public let padTokenId: Int32?
    /// tokenizer_config.json's `chat_template`, when there is one.
    public let chatTemplateSource: String?

    let normalizeNFC: Bool
    let splitPattern: SplitPattern
    let model: BPEModel
    let addedMatcher: AddedTokenMatcher
    /// Bytes of each id, flat: bytes of id i are decodeBytes[decodeOffsets[i]..<decodeOffsets[i+1]].
    let decodeBytes: [UInt8]
    let decodeOffsets: [Int32]
    let specialIds: Set<Int32>
    let tokenToId: TokenTable
    let idToToken: [String?]
    let cache = WordCache()

    /// The largest token id a tokenizer.json may use (ids are Int32 everywhere, and the id tables
    /// are sized by the largest id).
    public static let maxTokenId = (1 << 24) - 1
    /// How many ids below the largest may name no token.
    public static let maxUnusedIds = 1 << 16

    /// Loads `url`: a tokenizer.json file or the directory holding it.
    /// - Parameter forceRegex: split with NSRegularExpression even for the Qwen pattern (for tests).
    public convenience init(url: URL, forceRegex: Bool = false) throws {
        var isDir: ObjCBool = false
        var file = url
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
            file = url.appendingPathComponent("tokenizer.json")
        }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw TokenizerError("\(file.path): cannot read the tokenizer file")
        }
        let json: JSONValue
        // Duplicate keys: the last wins, as in the `tokenizers` library.
        do { json = try JSONValue.parse([UInt8](data), options: .huggingFace) } catch let e as JSONParseError {
            throw TokenizerError("\(file.path): \(e)")
        }
        let configURL = file.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
        var config: JSONValue? = nil
        if let configData = FileManager.default.contents(atPath: configURL.path) {
            do { config = try JSONValue.parse([UInt8](configData), options: .huggingFace) } catch let e as JSONParseError {
                throw TokenizerError("\(configURL.path): \(e)")
            }
        }
        try self.init(json: json, config: config, path: file.path, forceRegex: forceRegex)
    }

    /// Builds the tokenizer from parsed tokenizer.json (and optionally tokenizer_config.json) contents.
    /// `path` names the file in error messages.
    public init(json: JSONValue, config: JSONValue? = nil, path: String = "tokenizer.json", forceRegex: Bool = false) throws {
        func fail(_ key: String, _ problem: String) -> TokenizerError { TokenizerError("\(path): \(key): \(problem)") }

        // Normalizer: none or NFC.
        switch json["normalizer"] {
        case nil, .null?: normalizeNFC = false
        case let n?:
            guard n["type"]?.stringValue == "NFC" else { throw fail("normalizer", "only NFC or null is supported, found \(n["type"]?.stringValue ?? "?")") }
            normalizeNFC = true
        }

        // Pre-tokenizer: Split(regex, Isolated) then ByteLevel without its own regex, or ByteLevel alone with GPT-2's regex.
        splitPattern = try BPETokenizer.readPreTokenizer(json["pre_tokenizer"], fail: fail, forceRegex: forceRegex)
        if let d = json["decoder"], !d.isNull, d["type"]?.stringValue != "ByteLevel" {
            throw fail("decoder.type", "only ByteLevel is supported")
        }
        if let p = json["post_processor"], !p.isNull, p["type"]?.stringValue != "ByteLevel" {
            throw fail("post_processor.type", "only ByteLevel (which adds no tokens) is supported, found \(p["type"]?.stringValue ?? "?")")
        }

        // Model.
        guard let m = json["model"] else { throw fail("model", "missing") }
        guard m["type"]?.stringValue == "BPE" || m["type"] == nil else { throw fail("model.type", "only BPE is supported") }
        if let d = m["dropout"], !d.isNull { throw fail("model.dropout", "dropout is not supported") }
        if m["byte_fallback"]?.boolValue == true { throw fail("model.byte_fallback", "byte fallback is not supported") }
        if m["ignore_merges"]?.boolValue == true { throw fail("model.ignore_merges", "ignore_merges is not supported") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = m[key]?.stringValue, !s.isEmpty { throw fail("model.\(key)", "must be empty") }
        }
        guard let vocab = m["vocab"]?.objectValue else { throw fail("model.vocab", "missing or not an object") }
        var tokenToId = TokenTable(capacity: vocab.count + 64)
        var maxId: Int32 = -1
        var idToToken: [(String, Int32)] = []
        idToToken.reserveCapacity(vocab.count + 64)
        for (token, v) in vocab {
            guard let id = v.intValue, id >= 0, id <= BPETokenizer.maxTokenId else {
                throw fail("model.vocab[\(token)]", "id \(v.excerpt()) is not an integer in 0...\(BPETokenizer.maxTokenId)")
            }
            tokenToId.set(token, Int32(id))
            idToToken.append((token, Int32(id)))
            maxId = max(maxId, Int32(id))
        }

        // Bytes and merges resolve in the model vocabulary only (added tokens come after).
        var byteIds = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            guard let id = tokenToId.id(of: String(Character(ByteLevel.byteToScalar[b]))) else {
                throw fail("model.vocab", "no token for byte \(b) (\(ByteLevel.byteToScalar[b]))")
            }
            byteIds[b] = id
        }

        // Merges: ["a", "b"] pairs or legacy "a b" strings; rank = position in the list.
        guard let mergeList = m["merges"]?.arrayValue else { throw fail("model.merges", "missing or not an array") }
        var entries: [(left: Int32, right: Int32, rank: Int32, merged: Int32)] = []
        entries.reserveCapacity(mergeList.count)
        var joined: [UInt8] = []
        for (rank, item) in mergeList.enumerated() {
            let left: String, right: String
            switch item {
            case let .array(pair) where pair.count == 2:
                guard let a = pair[0].stringValue, let b = pair[1].stringValue else { throw fail("model.merges[\(rank)]", "not a pair of strings") }
                left = a; right = b
            case let .string(s):
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw fail("model.merges[\(rank)]", "\"\(s)\" is not two tokens separated by one space") }
                left = String(parts[0]); right = String(parts[1])
            default:
                throw fail("model.merges[\(rank)]", "neither a pair nor a string")
            }
            guard let a = tokenToId.id(of: left), let b = tokenToId.id(of: right) else {
                throw fail("model.merges[\(rank)]", "token \"\(tokenToId.id(of: left) == nil ? left : right)\" is not in the vocabulary")
            }
            var leftUTF8 = left, rightUTF8 = right
            let merged = leftUTF8.withUTF8 { l in rightUTF8.withUTF8 { r in
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: l)
                joined.append(contentsOf: r)
                return joined.withUnsafeBufferPointer { tokenToId.id(of: $0) }
            } }
            guard let ab = merged else { throw fail("model.merges[\(rank)]", "merged token \"\(left + right)\" is not in the vocabulary") }
            entries.append((a, b, Int32(rank), ab))
        }
        model = BPEModel(byteIds: byteIds, merges: PairTable(entries))

        // Added tokens.
        var added: [AddedToken] = []
        for (i, a) in (json["added_tokens"]?.arrayValue ?? []).enumerated() {
            guard let content = a["content"]?.stringValue, !content.isEmpty else {
                throw fail("added_tokens[\(i)].content", "needs a non-empty string")
            }
            guard let id = a["id"]?.intValue, id >= 0, id <= BPETokenizer.maxTokenId else {
                throw fail("added_tokens[\(i)].id", "\(a["id"]?.excerpt() ?? "missing") is not an integer in 0...\(BPETokenizer.maxTokenId)")
            }
            added.append(AddedToken(id: Int32(id), content: content, special: a["special"]?.boolValue ?? false,
                                    lstrip: a["lstrip"]?.boolValue ?? false, rstrip: a["rstrip"]?.boolValue ?? false,
                                    singleWord: a["single_word"]?.boolValue ?? false))
            tokenToId.set(content, Int32(id))
            idToToken.append((content, Int32(id)))
            maxId = max(maxId, Int32(id))
        }
        addedTokens = added
        addedMatcher = AddedTokenMatcher(added)
        specialIds = Set(added.filter(\.special).map(\.id))
        vocabularySize = Int(maxId) + 1
        // The id tables are sized by the largest id: a few unused ids are fine, a sparse file is not.
        guard vocabularySize <= idToToken.count + BPETokenizer.maxUnusedIds else {
            throw fail("added_tokens", "the largest id \(maxId) leaves \(vocabularySize - idToToken.count) ids unused "
                + "(at most \(BPETokenizer.maxUnusedIds) may be): ids must be close to the \(idToToken.count) tokens")
        }

        // Id → token text and bytes. Byte-level decoding maps each character back to its byte; a token
        // with a character outside the table decodes to its own UTF-8, as Hugging Face's decoder does.
        var tokens = [String?](repeating: nil, count: vocabularySize)
        for (token, id) in idToToken { tokens[Int(id)] = token }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vocabularySize * 7)
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(vocabularySize + 1)
        for token in tokens {
            if let token { bytes += ByteLevel.bytes(of: token) ?? Array(token.utf8) }
            offsets.append(Int32(bytes.count))
        }
        decodeBytes = bytes
        decodeOffsets = offsets
        self.idToToken = tokens
        self.tokenToId = tokenToId


        // Ids named by tokenizer_config.json, with Qwen's defaults.
        func named(_ key: String) -> String? {
            guard let v = config?[key] else { return nil }
            return v.stringValue ?? v["content"]?.stringValue
        }
        eosTokenId = named("eos_token").flatMap { tokenToId.id(of: $0) } ?? tokenToId.id(of: "<|im_end|>") ?? tokenToId.id(of: "<|endoftext|>")
        padTokenId = named("pad_token").flatMap { tokenToId.id(of: $0) } ?? tokenToId.id(of: "<|endoftext|>")
        chatTemplateSource = config?["chat_template"]?.stringValue
    }

    private static func readPreTokenizer(_ p: JSONValue?, fail: (String, String) -> TokenizerError, forceRegex: Bool) throws -> SplitPattern {
        let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        guard let p, !p.isNull else { throw fail("pre_tokenizer", "missing") }
        func byteLevel(_ b: JSONValue, _ key: String) throws -> Bool {
            guard b["type"]?.stringValue == "ByteLevel" else { throw fail("\(key).type", "expected ByteLevel") }
            if b["add_prefix_space"]?.boolValue == true { throw fail("\(key).add_prefix_space", "true is not supported") }
            return b["use_regex"]?.boolValue ?? true
        }
        if p["type"]?.stringValue == "ByteLevel" {
            guard try byteLevel(p, "pre_tokenizer") else { throw fail("pre_tokenizer", "ByteLevel without a regex is not supported alone") }
            do { return try SplitPattern(pattern: gpt2, forceRegex: forceRegex) } catch { throw fail("pre_tokenizer", "\(error)") }
        }
        guard p["type"]?.stringValue == "Sequence", let list = p["pretokenizers"]?.arrayValue, list.count == 2 else {
            throw fail("pre_tokenizer", "expected Sequence[Split, ByteLevel] or ByteLevel")
        }
        let split = list[0]
        guard split["type"]?.stringValue == "Split", let regex = split["pattern"]?["Regex"]?.stringValue else {
            throw fail("pre_tokenizer.pretokenizers[0]", "expected a Split with a Regex pattern")
        }
        guard split["behavior"]?.stringValue == "Isolated" else { throw fail("pre_tokenizer.pretokenizers[0].behavior", "only Isolated is supported") }
        if split["invert"]?.boolValue == true { throw fail("pre_tokenizer.pretokenizers[0].invert", "true is not supported") }
        if try byteLevel(list[1], "pre_tokenizer.pretokenizers[1]") {
            throw fail("pre_tokenizer.pretokenizers[1].use_regex", "a second regex after Split is not supported")
        }
        do { return try SplitPattern(pattern: regex, forceRegex: forceRegex) } catch {
            throw fail("pre_tokenizer.pretokenizers[0].pattern", "invalid regex: \(error)")
        }
    }

    /// Whether the split regex runs through the hand-written Qwen matcher.
    public var usesFastSplitter: Bool { splitPattern.usesFastPath }

    /// The id of a token (its byte-level text, e.g. "Ġhello", or an added token's content).
    public func id(of token: String) -> Int32? { tokenToId.id(of: token) }

    /// The byte-level text of an id.
    public func token(of id: Int32) -> String? {
        id >= 0 && Int(id) < idToToken.count ? idToToken[Int(id)] : nil
    }

    public func isSpecial(_ id: Int32) -> Bool { specialIds.contains(id) }

    /// Ids that end a generated answer: the eos id, `<|im_end|>` and `<|endoftext|>` where present
    /// (Qwen3's generation_config.json lists the last two).
    public var stopTokenIds: Set<Int32> {
        Set([eosTokenId, id(of: "<|im_end|>"), id(of: "<|endoftext|>")].compactMap { $0 })
    }
}
