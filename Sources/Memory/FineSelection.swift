import Compute

/// Fine selection over a sequence's C candidates (method.md §4): λ_j = score_j / τ; evaluation picks
/// argmax λ, training argmax(λ + g) with Gumbel noise g (the straight-through forward value), ties to
/// the first candidate. Also the cosines behind σ_t = cos(m_t, M_j) and the diversity term (§6).
enum FineSelection {
    /// The chosen candidate and the logits it was chosen from (λ, or λ + g).
    static func select(lambda: [Float], noise: [Float]?) -> (index: Int, logits: [Float]) {
        var z = lambda
        if let noise { for j in z.indices { z[j] += noise[j] } }
        return (z.indices.reduce(0) { z[$1] > z[$0] ? $1 : $0 }, z)
    }

    /// a·b / (|a| |b|).
    static func cosine(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        Vector.dot(a, b, n) / (Vector.sumOfSquares(a, n).squareRoot() * Vector.sumOfSquares(b, n).squareRoot())
    }

    /// cos(M_i, M_j) for every pair of entry vectors.
    static func cosines(_ means: [[Float]]) -> [[Float]] {
        means.map { a in means.map { b in
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in cosine(pa.baseAddress!, pb.baseAddress!, a.count) } }
        } }
    }

    /// The selection probabilities y = softmax(z) (L_div).
    static func softmax(_ z: [Float]) -> [Float] {
        var p = z
        p.withUnsafeMutableBufferPointer { Softmax.row($0.baseAddress!, count: $0.count) }
        return p
    }

    /// Σ_{i≠j} p_i p_j cos_ij / Σ_{i≠j} p_i p_j.
    static func diversity(_ p: [Float], _ cosines: [[Float]]) -> Double {
        var num = 0.0, den = 0.0
        for i in p.indices { for j in p.indices where i != j {
            let w = Double(p[i]) * Double(p[j])
            num += w * Double(cosines[i][j]); den += w
        } }
        return den > 0 ? num / den : 0
    }
}
