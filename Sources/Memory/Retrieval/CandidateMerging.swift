import Compute

/// A bank row a retriever proposes for one sample, with its score (λ = score/τ in fine selection).
public struct RetrievedRow: Sendable, Equatable {
    public let row: Int
    public let score: Float
    public init(row: Int, score: Float) { self.row = row; self.score = score }
}

/// The retrievers without trained parameters of method.md §4 that build on the multi-index:
/// encoder candidates, and the hybrid of two candidate lists.
public enum CandidateMerging {
    /// Encoder candidates: the query's embedding `query` [K] searched through the multi-index (top
    /// `halfTopK` keys per half, cells best first) for `count` rows, each re-scored by the exact
    /// cosine with its stored key embedding (`key(row)` [K]); walk order is kept.
    public static func encoder(
        grid: KeyGrid, query: UnsafePointer<Float>, halfTopK: Int, count: Int, key: (Int) -> [Float]
    ) -> [RetrievedRow] {
        let K = 2 * grid.halfDim
        let queryNorm = Vector.sumOfSquares(query, K).squareRoot()
        let coarse = grid.candidates(rowScores: grid.halfScores(query, half: 0), columnScores: grid.halfScores(query, half: 1),
                                     halfTopK: halfTopK, count: count)
        return coarse.map { c in
            let embedding = key(Int(c.row))
            let cosine = embedding.withUnsafeBufferPointer { e in
                Vector.dot(query, e.baseAddress!, K) / max(queryNorm * Vector.sumOfSquares(e.baseAddress!, K).squareRoot(), 1e-8)
            }
            return RetrievedRow(row: Int(c.row), score: cosine)
        }
    }

    /// `hybrid`: the union of the lexical list and the other (encoder or dense) list, lexical rows
    /// first, cut to `count`; each list's scores min-max normalised over its own candidates (all
    /// equal: 1), and a row's normalised scores summed (a list that lacks the row adds 0).
    public static func hybrid(lexical: [RetrievedRow], other: [RetrievedRow], count: Int) -> [RetrievedRow] {
        func normalised(_ list: [RetrievedRow]) -> [Int: Float] {
            guard let lo = list.map(\.score).min(), let hi = list.map(\.score).max() else { return [:] }
            var out: [Int: Float] = [:]
            for r in list where out[r.row] == nil { out[r.row] = hi > lo ? (r.score - lo) / (hi - lo) : 1 }
            return out
        }
        let a = normalised(lexical), b = normalised(other)
        var seen = Set<Int>(), merged: [RetrievedRow] = []
        for r in lexical + other where merged.count < count && seen.insert(r.row).inserted {
            merged.append(RetrievedRow(row: r.row, score: (a[r.row] ?? 0) + (b[r.row] ?? 0)))
        }
        return merged
    }
}
