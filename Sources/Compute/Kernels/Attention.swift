import Foundation

/// Grouped-query causal self-attention over a key/value history.
///
/// q [T, Hq, d] holds the queries of the last T of S positions; k and v [S, Hkv, d] hold all S keys
/// and values (the cache). Query head h reads kv head h / (Hq/Hkv). Query t sits at absolute position
/// S − T + t and attends to keys 0...S−T+t. Scores and softmax are float32, as the reference.
///
/// Threads: the heads go to the workers whole when they are small (a prompt of a few hundred tokens);
/// larger ones run one after another, each GEMM split over the workers by the backend.
/// Causal blocking: the queries go in blocks of `block` rows, and a block's GEMMs stop at the last key its
/// last row sees, so most of the masked upper triangle is never computed.
public enum Attention {
    /// Query rows per causal block.
    static let block = 64

    /// How the backward gets the attention weights P of the forward.
    public enum Weights {
        /// P [Hq, T, S] as the forward kept it (`probs`): 4·Hq·T·S bytes.
        case kept(UnsafePointer<Float>)
        /// P recomputed one head at a time into `scratch` (T·S floats) from the forward's
        /// `softmaxStats` [Hq, T, 2]: one more QKᵀ per head, the same bits, and memory linear in T.
        case recomputed(softmaxStats: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>)
    }

    /// out [T, Hq, d]. `probs`, when given ([Hq, T, S]), keeps the attention weights for backward;
    /// `softmaxStats`, when given ([Hq, T, 2]), keeps each row's softmax maximum and 1 / Σ exp so the
    /// backward can recompute them instead. `scratch` needs T·S floats when `probs` is nil.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
        v: UnsafePointer<Float>, probs: UnsafeMutablePointer<Float>? = nil, softmaxStats: UnsafeMutablePointer<Float>? = nil,
        scratch: UnsafeMutablePointer<Float>, queries T: Int, keys S: Int, heads: Int, kvHeads: Int, headDim d: Int
    ) {
        let group = heads / kvHeads
        let qStride = heads * d, kvStride = kvHeads * d
        let past = S - T
        // One query head: scores, softmax, out_h [T, d] = probs · v_h. `p` holds its T·S weights.
        func head(_ h: Int, _ p: UnsafeMutablePointer<Float>) {
            let g = h / group, stats = softmaxStats.map { $0 + h * T * 2 }
            scores(p, q: q, k: k, head: h, kvHead: g, queries: T, keys: S, heads: heads, kvHeads: kvHeads, headDim: d)
            Parallel.forChunks(T, grain: 16) { rows in softmaxCausal(p, rows: rows, columns: S, past: past, stats: stats) }
            forBlocks(T) { r0, r1 in
                Backend.gemm(p + r0 * S, v + g * d, out + r0 * qStride + h * d, m: r1 - r0, n: d, k: past + r1,
                             lda: S, ldb: kvStride, ldc: qStride)
            }
        }
        headBlocks(heads, productSize: T * S * d, buffers: [probs == nil ? scratch : nil], floats: T * S) { range, buffers in
            for h in range { head(h, probs.map { $0 + h * T * S } ?? buffers[0]!) }
        }
    }

    /// Heads of at most this many multiply-adds per product (T·S·d) run one per worker task.
    static let headsOnWorkers = 1 << 24

    /// Calls `body(range, buffers)` on blocks of 0..<count. Small heads (products of `productSize` up
    /// to `headsOnWorkers`, a prompt of a few hundred tokens) go to the workers whole: split inside,
    /// each head's ~2·T/64 small products and its softmax would each cost a hand-off and a wait. The
    /// first block gets the caller's `buffers`, every other block its own of `floats` each (nil stays
    /// nil), freed after it. Larger heads run in one block on this thread, each product split by the
    /// backend.
    private static func headBlocks(
        _ count: Int, productSize: Int, buffers: [UnsafeMutablePointer<Float>?], floats: Int,
        _ body: (Range<Int>, [UnsafeMutablePointer<Float>?]) -> Void
    ) {
        guard productSize <= headsOnWorkers else { return body(0..<count, buffers) }
        Parallel.forChunks(count) { range in
            guard range.lowerBound > 0 else { return body(range, buffers) }
            let own = buffers.map { $0.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: floats) } }
            defer { for buffer in own { buffer?.deallocate() } }
            body(range, own)
        }
    }

    /// Backward of `forward` from its attention weights (see `Weights`): accumulates dq [T, Hq, d] and
    /// dk, dv [S, Hkv, d]. Per query head, with P the probabilities and dO the output gradient:
    /// dV += Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ += scale·dS·K, dK += scale·dSᵀ·Q.
    /// GQA: the query heads of a group add into their kv head's dK/dV one after another; small heads
    /// run a kv group per worker task. `scratch` needs T·S floats.
    public static func backward(
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        weights: Weights, scratch: UnsafeMutablePointer<Float>,
        queries T: Int, keys S: Int, heads: Int, kvHeads: Int, headDim d: Int
    ) {
        let group = heads / kvHeads
        let qStride = heads * d, kvStride = kvHeads * d
        let scale = 1 / Float(d).squareRoot()
        let past = S - T
        // The query heads of kv group g, one after another (they add into the same dK/dV). `dp` holds
        // T·S floats; `buffer`, with recomputed weights, another T·S.
        func kvGroup(_ g: Int, dp: UnsafeMutablePointer<Float>, buffer: UnsafeMutablePointer<Float>?) {
            let kv = g * d
            for h in g * group..<(g + 1) * group {
                let p: UnsafePointer<Float>
                switch weights {
                case .kept(let probs):
                    p = probs + h * T * S
                case .recomputed(let softmaxStats, _):
                    let stats = softmaxStats + h * T * 2, buffer = buffer!
                    scores(buffer, q: q, k: k, head: h, kvHead: g, queries: T, keys: S, heads: heads, kvHeads: kvHeads, headDim: d)
                    Parallel.forChunks(T, grain: 16) { rows in softmaxCausal(buffer, rows: rows, columns: S, past: past, recomputingFrom: stats) }
                    p = UnsafePointer(buffer)
                }
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
        var recomputeBuffer: UnsafeMutablePointer<Float>? = nil
        if case .recomputed(_, let buffer) = weights { recomputeBuffer = buffer }
        // As the forward: small heads go to the workers whole, a block of kv groups per task.
        headBlocks(kvHeads, productSize: T * S * d, buffers: [scratch, recomputeBuffer], floats: T * S) { range, buffers in
            for g in range { kvGroup(g, dp: buffers[0]!, buffer: buffers[1]) }
        }
    }

    /// scores [T, S] = scale · q_h k_hᵀ (GEMM over strided head slices), by causal blocks: row block
    /// r0..<r1 stops at the last key its last row sees (the rest is masked by the softmax).
    static func scores(
        _ p: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, head h: Int, kvHead g: Int,
        queries T: Int, keys S: Int, heads: Int, kvHeads: Int, headDim d: Int
    ) {
        let qStride = heads * d, kvStride = kvHeads * d, past = S - T
        let scale = 1 / Float(d).squareRoot()
        forBlocks(T) { r0, r1 in
            Backend.gemm(q + r0 * qStride + h * d, k + g * d, p + r0 * S, m: r1 - r0, n: past + r1, k: d, transB: true,
                         alpha: scale, lda: qStride, ldb: kvStride, ldc: S)
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
    /// Row t's maximum and 1 / Σ exp go to stats[2t], stats[2t + 1] when `stats` is given; with
    /// `recomputingFrom` they are read from there instead (the same bits as the first time).
    static func softmaxCausal(
        _ p: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Int, past: Int,
        stats: UnsafeMutablePointer<Float>? = nil, recomputingFrom saved: UnsafePointer<Float>? = nil
    ) {
        for t in rows {
            let row = p + t * columns
            let visible = past + t + 1
            if let saved {
                Softmax.recompute(row, count: visible, max: saved[2 * t], inverseSum: saved[2 * t + 1])
            } else {
                let (m, inv) = Softmax.row(row, count: visible)
                if let stats { stats[2 * t] = m; stats[2 * t + 1] = inv }
            }
            for s in visible..<columns { row[s] = 0 }
        }
    }
}
