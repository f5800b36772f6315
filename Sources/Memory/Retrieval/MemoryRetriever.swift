import Compute
import Encoders
import Foundation

/// The query-text retrievers of method.md §4 over a bank: `lexical` (BM25), `encoder` (the
/// embedder's query through the multi-index, re-scored by exact cosine) and `hybrid` (both merged).
/// The `dense` retriever reads the query state q̄ inside the forward pass (the MemoryGate), so it is
/// not a function of the text alone: `DenseRetriever` serves it through the batch context.
public struct MemoryRetriever {
    public let bank: MemoryBank
    public let retriever: MemoryConfig.Retriever
    /// The embedder of the bank's keys, for `encoder` and `hybrid`.
    public let embedder: SentenceEmbedder?
    /// C and C_int.
    public let count: Int, halfTopK: Int

    public init(bank: MemoryBank, retriever: MemoryConfig.Retriever, embedder: SentenceEmbedder?, count: Int) throws {
        guard retriever != .dense else {
            throw MemoryError("retriever dense: the MemoryGate retrieves from the query state inside the forward pass (DenseRetriever); use lexical, encoder or hybrid here")
        }
        if retriever != .lexical {
            guard bank.keys != nil else { throw MemoryError("\(bank.url.path): the bank has no keys, so the \(retriever.rawValue) retriever cannot search it") }
            guard let embedder else { throw MemoryError("the \(retriever.rawValue) retriever needs the bank's embedder") }
            guard embedder.dimension == bank.knowledgeDim else {
                throw MemoryError("the embedder gives \(embedder.dimension) values, the bank's keys have K = \(bank.knowledgeDim)")
            }
        }
        guard count >= 1 else { throw MemoryError("the candidate count must be at least 1, got \(count)") }
        self.bank = bank
        self.retriever = retriever
        self.embedder = embedder
        self.count = count
        halfTopK = min(128, bank.gridSide)
    }

    /// The query-text retriever a memory's settings name, for C candidates, with the embedder of
    /// `model.embedder_path`, else the one the bank was built with.
    public init(bank: MemoryBank, settings: MemoryConfig) throws {
        let embedder = settings.retriever == .lexical ? nil
            : try makeEmbedder(path: URL(fileURLWithPath: settings.embedderPath ?? bank.embedder), textEncoder: { bank.tokenizer.tokenizer.encode($0) })
        try self.init(bank: bank, retriever: settings.retriever, embedder: embedder, count: settings.numCandidates)
    }

    /// The top `count` rows for `query`, best first, with the retriever's scores.
    public func retrieve(_ query: String) throws -> [RetrievedRow] {
        let lexical = { bank.lexical.search(query, top: count).map { RetrievedRow(row: $0.row, score: Float($0.score)) } }
        switch retriever {
        case .lexical: return lexical()
        case .encoder: return try encoder(query)
        case .hybrid: return CandidateMerging.hybrid(lexical: lexical(), other: try encoder(query), count: count)
        case .dense: return []  // refused by init
        }
    }

    private func encoder(_ query: String) throws -> [RetrievedRow] {
        guard let embedder, let grid = try bank.keyGrid() else { return [] }
        let q = try embedder.embed([query])[0]
        var failure: Error?
        let rows = q.withUnsafeBufferPointer { q in
            CandidateMerging.encoder(grid: grid, query: q.baseAddress!, halfTopK: halfTopK, count: count) { row in
                do {
                    if let key = try bank.keyEmbedding(row: row) { return key }
                    failure = MemoryError("\(bank.url.path): row \(row) sits in a cell but has no stored key embedding")
                } catch { failure = error }
                return [Float](repeating: 0, count: q.count)
            }
        }
        if let failure { throw failure }
        return rows
    }

    /// The rows as fine selection reads them: their tokens without pads, in retrieval order.
    public func candidates(_ rows: [RetrievedRow]) -> [MemoryCandidate] { rows.map(bank.candidate) }
}

extension MemoryBank {
    /// A retrieved row as fine selection reads it: its tokens without pads, with the retriever's score.
    public func candidate(_ r: RetrievedRow) -> MemoryCandidate {
        let L = knowledgeLength
        return MemoryCandidate(row: r.row, tokens: Array(tokens[(r.row * L)..<((r.row + 1) * L)]), length: Int(lengths[r.row]), score: r.score)
    }
}
