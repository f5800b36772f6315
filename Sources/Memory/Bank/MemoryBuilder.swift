import Compute
import Encoders
import Foundation

/// `build-memory` as a library call (method.md §2, §3, §7): a knowledge base → row tokens (the
/// sentence, then the object as an answer tokenises it, within L_k) → key embeddings → k-means keys
/// → cells → a MemoryBank. Deterministic for a seed; one copy of the key embeddings is held.
public enum MemoryBuilder {
    /// What the build did, for the user.
    public struct Report: Sendable {
        public let facts: Int
        public let knowledgeNum: Int
        public let knowledgeLength: Int
        public let knowledgeDim: Int
        /// Rows whose sentence (and, rarely, object) had to be cut to fit L_k.
        public let cutRows: Int
        /// The occupancy line of method §3.
        public let occupancy: String
    }

    /// A phase of the build and its progress (done of total), for a progress bar.
    public typealias Progress = (_ phase: String, _ done: Int, _ total: Int) -> Void

    /// Builds the bank at `url`. `config.knowledgeNum` is used when `knowledgeNum` is given, else the
    /// smallest power of 4 that is at least 4 × the facts; `config.knowledgeLength` is L_k.
    public static func build(
        _ knowledgeBase: KnowledgeBase, at url: URL, tokenizer: BankTokenizer, embedder: SentenceEmbedder, embedderName: String,
        config base: MemoryConfig, knowledgeNum: Int?, seed: UInt64, lexicalFields: LexicalFields = .text, progress: Progress = { _, _, _ in }
    ) throws -> (bank: MemoryBank, report: Report) {
        let facts = knowledgeBase.facts
        var config = base
        config.knowledgeNum = knowledgeNum ?? MemoryKeys.knowledgeNum(facts: facts.count)
        config.knowledgeDim = embedder.dimension
        guard facts.count <= config.knowledgeNum else {
            throw MemoryBankError("\(url.path): \(facts.count) facts do not fit a bank of knowledge_num \(config.knowledgeNum) rows")
        }
        let K = embedder.dimension
        guard K >= 2, K % 2 == 0 else { throw MemoryBankError("the embedder's width \(K) is not even: the key halves need K/2 each") }

        // Tokens first: a fact that cannot be tokenised fails before the long embedding pass.
        var rows: [MemoryRow] = []
        rows.reserveCapacity(facts.count)
        var cut = 0
        for (i, fact) in facts.enumerated() {
            let entry = MemoryRow.entryTokens(sentence: fact.sentence, object: fact.object ?? "", tokenizer: tokenizer.tokenizer,
                                              length: config.knowledgeLength)
            if entry.cut { cut += 1 }
            rows.append(MemoryRow(tokens: entry.tokens, objectLength: entry.objectLength, text: fact.sentence, uuid: fact.uuid ?? "",
                                  subject: fact.subject ?? "", predicate: fact.predicate ?? "", object: fact.object ?? ""))
            if i % 4096 == 4095 || i == facts.count - 1 { progress("tokenise", i + 1, facts.count) }
        }
        let embeddings = try MemoryKeys.embed(facts, with: embedder) { progress("embed keys", $0, $1) }
        progress("k-means keys", 0, 1)
        let grid = KeyGrid.build(embeddings: embeddings.data, rows: facts.count, dim: K, side: config.gridSide,
                                 capacity: config.knowledgeNum, seed: seed)
        progress("k-means keys", 1, 1)
        // Each row's key is copied out of the one embedding tensor only while the row is written.
        let complete = rows.indices.lazy.map { i -> MemoryRow in
            var row = rows[i]
            row.cell = grid.cells[i]
            row.key = Array(UnsafeBufferPointer(start: embeddings.data + i * K, count: K))
            return row
        }
        let bank = try MemoryBank.create(at: url, rows: complete, tokenizer: tokenizer, config: config, keys: grid.keys, embedder: embedderName,
                                         lexicalFields: lexicalFields)
        let report = Report(facts: facts.count, knowledgeNum: config.knowledgeNum, knowledgeLength: config.knowledgeLength, knowledgeDim: K, cutRows: cut,
                            occupancy: MemoryKeys.describe(grid, candidates: config.numCandidates))
        return (bank, report)
    }
}
