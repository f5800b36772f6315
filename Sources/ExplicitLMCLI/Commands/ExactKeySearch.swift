import Compute
import Encoders
import Foundation
import Memory

/// The embedder's exact top-k over every non-empty row's key embedding by cosine (the router's
/// teacher, method §7): brute force, not the multi-index, so labels do not inherit its misses.
struct ExactKeySearch {
    let rows: [Int]
    /// Unit-length keys [rows, K].
    let keys: Tensor
    let embedder: SentenceEmbedder

    /// The bank's stored keys when they came from this embedder (`ownEmbedder`) and every row has
    /// one; otherwise each row's key text (`MemoryKeys.keyText`) embedded now.
    init(bank: MemoryBank, embedder: SentenceEmbedder, ownEmbedder: Bool) throws {
        let all = try bank.allRows()
        guard !all.isEmpty else { throw CLIError("\(bank.url.path): the bank has no rows to label with") }
        let K = embedder.dimension
        var vectors: [[Float]]
        if ownEmbedder, all.allSatisfy({ $0.row.key != nil }) {
            vectors = all.map { $0.row.key! }
            if let bad = all.first(where: { $0.row.key!.count != K }) {
                throw CLIError("\(bank.url.path): row \(bad.index) has a key of \(bad.row.key!.count) values, the embedder gives \(K)")
            }
        } else {
            let texts = all.map { MemoryKeys.keyText(Fact(sentence: $0.row.text, subject: $0.row.subject, predicate: $0.row.predicate)) }
            vectors = []
            var start = 0
            while start < texts.count {
                vectors += try embedder.embed(Array(texts[start..<min(texts.count, start + 64)]))
                start += 64
            }
        }
        let keys = Tensor(zeros: [all.count, K])
        for (i, v) in vectors.enumerated() { Self.normalized(v).withUnsafeBufferPointer { keys.row(i).update(from: $0.baseAddress!, count: K) } }
        rows = all.map(\.index)
        self.keys = keys
        self.embedder = embedder
    }

    /// For each query the k best rows, best first (ties to the lower row), with their cosines.
    func top(_ queries: [String], k: Int) throws -> [[(row: Int, score: Float)]] {
        let K = keys.shape[1], N = rows.count
        let q = Tensor(zeros: [queries.count, K])
        for (i, v) in try embedder.embed(queries).enumerated() {
            guard v.count == K else { throw CLIError("the embedder gave \(v.count) values for a query, expected \(K)") }
            Self.normalized(v).withUnsafeBufferPointer { q.row(i).update(from: $0.baseAddress!, count: K) }
        }
        // Queries a few at a time, so that the score matrix stays near 16M floats for a large bank.
        let step = max(1, min(queries.count, (1 << 24) / max(N, 1)))
        var out: [[(row: Int, score: Float)]] = []
        var start = 0
        while start < queries.count {
            let count = min(step, queries.count - start)
            let scores = Tensor(zeros: [count, N])
            Linear.forward(scores.data, q.row(start), weight: keys.data, rows: count, inFeatures: K, outFeatures: N)
            for i in 0..<count { out.append(Self.best(scores.row(i), count: N, k: k).map { (rows[$0], scores.row(i)[$0]) }) }
            start += count
        }
        return out
    }

    /// The indices of the k largest scores, largest first; on a tie the lower index first.
    static func best(_ s: UnsafePointer<Float>, count: Int, k: Int) -> [Int] {
        var kept: [Int] = []
        kept.reserveCapacity(k + 1)
        for j in 0..<count {
            if kept.count == k, let last = kept.last, !(s[j] > s[last]) { continue }
            var at = kept.count
            while at > 0 && s[j] > s[kept[at - 1]] { at -= 1 }
            kept.insert(j, at: at)
            if kept.count > k { kept.removeLast() }
        }
        return kept
    }

    static func normalized(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
    }
}
