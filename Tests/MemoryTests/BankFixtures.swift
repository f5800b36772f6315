import Foundation
import Memory
import TestSupport

/// Small banks for the bank and retriever tests: a byte-level tokenizer written on the spot (one
/// token per UTF-8 byte, `<|endoftext|>` = 256 as the pad), facts about capitals, a temporary
/// directory per test.
enum BankFixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let qwen3Tokenizer = packageRoot.appendingPathComponent("../shared/testdata/qwen3-tokenizer").standardizedFileURL

    /// A tokenizer.json in `dir/name` of the 256 byte tokens and the added tokens `added` (ids from 256 on).
    static func byteTokenizer(in dir: URL, name: String = "tokenizer", added: [String] = ["<|endoftext|>"]) throws -> URL {
        try TinyModel.byteTokenizer(in: dir, name: name, added: added)
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
