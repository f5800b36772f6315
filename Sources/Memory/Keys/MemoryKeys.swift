import Compute
import Encoders

/// From facts to the multi-index (method.md §3): key texts → key embeddings → k-means keys → cells.
public enum MemoryKeys {
    /// The text a row's key embeds: its subject and predicate when the metadata has both (a
    /// question cannot know the object, and keys holding it generalise worse), else its sentence.
    public static func keyText(_ fact: Fact) -> String {
        if let s = fact.subject, let p = fact.predicate, !s.isEmpty, !p.isEmpty { return "\(s) \(p)" }
        return fact.sentence
    }

    /// N when the user gives none: the smallest power of 4 that is at least 4 × the facts
    /// (a perfect square, so the grid has n = √N sides).
    public static func knowledgeNum(facts: Int) -> Int {
        var n = 1
        while n < 4 * facts { n *= 4 }
        return n
    }

    /// The key embedding of every fact, [facts, K], embedded `batch` texts at a time; `progress`
    /// sees (done, total) after each batch. One copy of the embeddings is held.
    public static func embed(
        _ facts: [Fact], with embedder: SentenceEmbedder, batch: Int = 64, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> Tensor {
        let K = embedder.dimension
        let out = Tensor(zeros: [facts.count, K])
        var start = 0
        while start < facts.count {
            let end = min(facts.count, start + max(1, batch))
            let vectors = try embedder.embed(facts[start..<end].map(keyText))
            for (i, v) in vectors.enumerated() {
                guard v.count == K else { throw MemoryConfigError("the embedder gave \(v.count) values for fact \(start + i + 1), expected \(K)") }
                v.withUnsafeBufferPointer { (out.data + (start + i) * K).update(from: $0.baseAddress!, count: K) }
            }
            start = end
            progress(start, facts.count)
        }
        return out
    }

    /// The occupancy line the build logs (method §3).
    public static func describe(_ grid: KeyGrid, candidates: Int) -> String {
        let o = grid.occupancy(candidates: candidates)
        return "\(o.rows) rows in \(o.nonEmptyCells) of \(grid.side * grid.side) cells, the largest holds \(o.largestCell); "
            + "recall ceiling at C = \(candidates): " + String(format: "%.4f", o.recallCeiling)
    }
}
