import Foundation

/// Grouped-query causal self-attention over a key/value history.
///
/// q [T, Hq, d] holds the queries of the last T of S positions; k and v [S, Hkv, d] hold all S keys
/// and values (the cache). Query head h reads kv head h / (Hq/Hkv). Query t sits at absolute position
/// S − T + t and attends to keys 0...S−T+t. Scores and softmax are float32, as the reference.
public enum Attention {
    /// out [T, Hq, d]. `probs`, when given ([Hq, T, S]), keeps the attention weights for backward.
    /// `scratch` needs T·S floats when `probs` is nil.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
        v: UnsafePointer<Float>, probs: UnsafeMutablePointer<Float>? = nil,
        scratch: UnsafeMutablePointer<Float>, queries T: Int, keys S: Int, heads: Int, kvHeads: Int, headDim d: Int
    ) {
        let group = heads / kvHeads
        let qStride = heads * d, kvStride = kvHeads * d
        let scale = 1 / Float(d).squareRoot()
        let past = S - T
        for h in 0..<heads {
            let p = probs.map { $0 + h * T * S } ?? scratch
            let kh = k + (h / group) * d, vh = v + (h / group) * d
            // scores [T, S] = scale · q_h k_hᵀ (GEMM over strided head slices).
            BLAS.gemm(q + h * d, kh, p, m: T, n: S, k: d, transB: true, alpha: scale,
                      lda: qStride, ldb: kvStride, ldc: S)
            softmaxCausal(p, rows: T, columns: S, past: past)
            // out_h [T, d] = probs · v_h.
            BLAS.gemm(p, vh, out + h * d, m: T, n: d, k: S, lda: S, ldb: kvStride, ldc: qStride)
        }
    }

    /// Backward of `forward` from the saved `probs` [Hq, T, S]: accumulates dq [T, Hq, d] and
    /// dk, dv [S, Hkv, d]. Per query head, with P the probabilities and dO the output gradient:
    /// dV += Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ += scale·dS·K, dK += scale·dSᵀ·Q.
    /// GQA: the query heads of a group add into their kv head's dK/dV one after another, so every
    /// output is written by one GEMM at a time (BLAS threads inside it). `scratch` needs T·S floats.
    public static func backward(
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        probs: UnsafePointer<Float>, scratch dp: UnsafeMutablePointer<Float>,
        queries T: Int, keys S: Int, heads: Int, kvHeads: Int, headDim d: Int
    ) {
        let group = heads / kvHeads
        let qStride = heads * d, kvStride = kvHeads * d
        let scale = 1 / Float(d).squareRoot()
        let past = S - T
        for h in 0..<heads {
            let p = probs + h * T * S
            let kv = (h / group) * d
            // dV_h [S, d] += Pᵀ [S, T] · dO_h [T, d].
            BLAS.gemm(p, dOut + h * d, dv + kv, m: S, n: d, k: T, transA: true, beta: 1,
                      lda: S, ldb: qStride, ldc: kvStride)
            // dP [T, S] = dO_h · V_hᵀ.
            BLAS.gemm(dOut + h * d, v + kv, dp, m: T, n: S, k: d, transB: true,
                      lda: qStride, ldb: kvStride, ldc: S)
            softmaxBackward(dp, probs: p, rows: T, columns: S, past: past)
            // dQ_h [T, d] += scale · dS · K_h;  dK_h [S, d] += scale · dSᵀ · Q_h.
            BLAS.gemm(dp, k + kv, dq + h * d, m: T, n: d, k: S, alpha: scale, beta: 1,
                      lda: S, ldb: kvStride, ldc: qStride)
            BLAS.gemm(dp, q + h * d, dk + kv, m: S, n: d, k: T, transA: true, alpha: scale, beta: 1,
                      lda: S, ldb: qStride, ldc: kvStride)
        }
    }

    /// In place: dP [T, S] → dS = P ⊙ (dP − Σ_s dP·P) on the visible columns, 0 on masked ones.
    static func softmaxBackward(
        _ dp: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, rows: Int, columns: Int, past: Int
    ) {
        Parallel.forChunks(rows, grain: max(1, 8192 / max(columns, 1))) { range in
            for t in range {
                let g = dp + t * columns, p = probs + t * columns
                let visible = past + t + 1
                let dot = Vector.dot(g, p, visible)
                for s in 0..<visible { g[s] = p[s] * (g[s] - dot) }
                for s in visible..<columns { g[s] = 0 }
            }
        }
    }

    /// Row-wise softmax of scores [T, S] where row t sees columns 0...past+t; masked columns become 0.
    static func softmaxCausal(_ p: UnsafeMutablePointer<Float>, rows: Int, columns: Int, past: Int) {
        Parallel.forChunks(rows, grain: max(1, 8192 / max(columns, 1))) { range in
            for t in range {
                let row = p + t * columns
                let visible = past + t + 1
                var m = -Float.infinity
                for s in 0..<visible { m = max(m, row[s]) }
                var sum: Float = 0
                for s in 0..<visible {
                    let e = expf(row[s] - m)
                    row[s] = e
                    sum += e
                }
                let inv = 1 / sum
                for s in 0..<visible { row[s] *= inv }
                for s in visible..<columns { row[s] = 0 }
            }
        }
    }
}
