import Foundation
import Memory

/// Small banks for the bank and retriever tests: a byte-level tokenizer written on the spot (one
/// token per UTF-8 byte, `<|endoftext|>` = 256 as the pad), facts about capitals, a temporary
/// directory per test.
enum BankFixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let qwen3Tokenizer = packageRoot.appendingPathComponent("../shared/testdata/qwen3-tokenizer").standardizedFileURL

    /// A tokenizer.json in `dir/name` of the 256 byte tokens (GPT-2's byte-to-character table) and
    /// the added tokens named in `added` (ids from 256 on).
    static func byteTokenizer(in dir: URL, name: String = "tokenizer", added: [String] = ["<|endoftext|>"]) throws -> URL {
        let folder = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // bytes_to_unicode: printable Latin-1 bytes stand for themselves, the rest for 256, 257, ...
        let kept = Set(Array(33...126) + Array(161...172) + Array(174...255))
        var next = 256
        var vocab: [String: Int] = [:]
        for byte in 0..<256 {
            let scalar = kept.contains(byte) ? byte : next
            if !kept.contains(byte) { next += 1 }
            vocab[String(Character(Unicode.Scalar(UInt32(scalar))!))] = byte
        }
        let addedTokens = added.enumerated().map { ["id": 256 + $0.offset, "content": $0.element, "special": true] as [String: Any] }
        let json: [String: Any] = [
            "added_tokens": addedTokens, "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true],
            "decoder": ["type": "ByteLevel"], "model": ["type": "BPE", "vocab": vocab, "merges": [String]()],
        ]
        try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).write(to: folder.appendingPathComponent("tokenizer.json"))
        return folder
    }

    static let facts: [(text: String, subject: String, predicate: String, object: String)] = [
        ("Paris is the capital of France.", "France", "capital", "Paris"),
        ("The capital of Peru is Lima.", "Peru", "capital", "Lima"),
        ("Vienna is the capital of Austria.", "Austria", "capital", "Vienna"),
        ("Tokyo is the capital of Japan.", "Japan", "capital", "Tokyo"),
        ("Canberra is the capital of Australia.", "Australia", "capital", "Canberra"),
    ]

    /// The facts tokenised as a bank builds rows, cell = row · 3 mod N, uuids "fact-i".
    static func rows(_ tokenizer: BankTokenizer, length: Int, knowledgeNum: Int, keyWidth: Int = 0) -> [MemoryRow] {
        facts.enumerated().map { i, fact in
            let (tokens, objectLength, _) = MemoryRow.entryTokens(sentence: fact.text, object: fact.object, tokenizer: tokenizer.tokenizer,
                                                                   length: length)
            let key = keyWidth > 0 ? (0..<keyWidth).map { Float(i) + Float($0) / 4 } : nil
            return MemoryRow(tokens: tokens, objectLength: objectLength, text: fact.text, uuid: "fact-\(i)", subject: fact.subject,
                             predicate: fact.predicate, object: fact.object, source: "test", cell: Int32(i * 3 % knowledgeNum), key: key)
        }
    }

    static func config(knowledgeNum: Int = 16, knowledgeLength: Int = 64) -> MemoryConfig {
        var config = MemoryConfig()
        config.knowledgeNum = knowledgeNum
        config.knowledgeLength = knowledgeLength
        return config
    }
}
