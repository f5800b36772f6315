import Foundation

/// Grouped-query causal self-attention over a key/value history.
///
/// q [T, Hq, d] holds the queries of the last T of S positions; k and v [S, Hkv, d] hold all S keys
/// and values (the cache). Query head h reads kv head h / (Hq/Hkv). Query t sits at absolute position
/// S − T + t and attends to keys 0...S−T+t. Scores and softmax are float32, as the reference.
///
/// Threads: inside each GEMM (the backend splits a product over the workers).
/// Causal blocking: the queries go in blocks of `block` rows, and a block's GEMMs stop at the last key its
/// last row sees, so most of the masked upper triangle is never computed.
public enum Attention {
    /// Query rows per causal block.
    static let block = 64

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
        for g in 0..<kvHeads {
            for h in g * group..<(g + 1) * group {
                let p = probs.map { $0 + h * T * S } ?? scratch
                let kh = k + g * d, vh = v + g * d
                // scores [T, S] = scale · q_h k_hᵀ (GEMM over strided head slices), by causal blocks.
                forBlocks(T) { r0, r1 in
                    Backend.gemm(q + r0 * qStride + h * d, kh, p + r0 * S, m: r1 - r0, n: past + r1, k: d, transB: true,
                              alpha: scale, lda: qStride, ldb: kvStride, ldc: S)
                }
                Parallel.forChunks(T, grain: 16) { rows in softmaxCausal(p, rows: rows, columns: S, past: past) }
                // out_h [T, d] = probs · v_h.
                forBlocks(T) { r0, r1 in
                    Backend.gemm(p + r0 * S, vh, out + r0 * qStride + h * d, m: r1 - r0, n: d, k: past + r1,
                              lda: S, ldb: kvStride, ldc: qStride)
                }
            }
        }
    }

    /// Backward of `forward` from the saved `probs` [Hq, T, S]: accumulates dq [T, Hq, d] and
    /// dk, dv [S, Hkv, d]. Per query head, with P the probabilities and dO the output gradient:
    /// dV += Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ += scale·dS·K, dK += scale·dSᵀ·Q.
    /// GQA: the query heads of a group add into their kv head's dK/dV one after another.
    /// `scratch` needs T·S floats.
    public static func backward(
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        probs: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        queries T: Int, keys S: Int, heads: Int, kvHeads: Int, headDim d: Int
    ) {
        let group = heads / kvHeads
        let qStride = heads * d, kvStride = kvHeads * d
        let scale = 1 / Float(d).squareRoot()
        let past = S - T
        let dp = scratch
        for g in 0..<kvHeads {
            let kv = g * d
            for h in g * group..<(g + 1) * group {
                let p = probs + h * T * S
                // Rows r0..<r1 of P, dP and dS are zero past column past + r1.
                forBlocks(T) { r0, r1 in
                    // dV_h [S, d] += Pᵀ [S, T] · dO_h [T, d];  dP [T, S] = dO_h · V_hᵀ.
                    Backend.gemm(p + r0 * S, dOut + r0 * qStride + h * d, dv + kv, m: past + r1, n: d, k: r1 - r0,
                              transA: true, beta: 1, lda: S, ldb: qStride, ldc: kvStride)
                    Backend.gemm(dOut + r0 * qStride + h * d, v + kv, dp + r0 * S, m: r1 - r0, n: past + r1, k: d,
                              transB: true, lda: qStride, ldb: kvStride, ldc: S)
                }
                Parallel.forChunks(T, grain: 16) { rows in softmaxBackward(dp, probs: p, rows: rows, columns: S, past: past) }
                forBlocks(T) { r0, r1 in
                    // dQ_h [T, d] += scale · dS · K_h;  dK_h [S, d] += scale · dSᵀ · Q_h.
                    Backend.gemm(dp + r0 * S, k + kv, dq + r0 * qStride + h * d, m: r1 - r0, n: d, k: past + r1,
                              alpha: scale, beta: 1, lda: S, ldb: kvStride, ldc: qStride)
                    Backend.gemm(dp + r0 * S, q + r0 * qStride + h * d, dk + kv, m: past + r1, n: d, k: r1 - r0,
                              transA: true, alpha: scale, beta: 1, lda: S, ldb: qStride, ldc: kvStride)
                }
            }
        }
    }

    /// Calls `body(r0, r1)` for the causal row blocks of 0..<rows.
    @inline(__always)
    static func forBlocks(_ rows: Int, _ body: (Int, Int) -> Void) {
        var r0 = 0
        while r0 < rows {
            let r1 = min(rows, r0 + block)
            body(r0, r1)
            r0 = r1
        }
    }

    /// In place: dP [T, S] → dS = P ⊙ (dP − Σ_s dP·P) on the visible columns, 0 on masked ones.
    static func softmaxBackward(
        _ dp: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, rows: Range<Int>, columns: Int, past: Int
    ) {
        for t in rows {
            let g = dp + t * columns, p = probs + t * columns
            let visible = past + t + 1
            let dot = Vector.dot(g, p, visible)
            for s in 0..<visible { g[s] = p[s] * (g[s] - dot) }
            for s in visible..<columns { g[s] = 0 }
        }
    }

    /// Row-wise softmax of scores [T, S] where row t sees columns 0...past+t; masked columns become 0.
    static func softmaxCausal(_ p: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Int, past: Int) {
        for t in rows {
            let row = p + t * columns
            let visible = past + t + 1
            Softmax.row(row, count: visible)
            for s in visible..<columns { row[s] = 0 }
        }
    }
}
