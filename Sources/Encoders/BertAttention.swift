import Compute
import Foundation

/// Bidirectional multi-head self-attention over packed sequences.
///
/// The batch is packed: sequence b owns rows offsets[b]..<offsets[b+1] of qkv [N, 3D] (query, key,
/// value side by side) and of out [N, D]. Each sequence attends only to its own rows, which equals
/// the reference's padded batch with an additive mask on the padded keys (their weight is exactly 0
/// there) without computing the padding.
enum BertAttention {
    static func forward(
        _ out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, offsets: [Int], heads: Int, headDim d: Int
    ) {
        let D = heads * d, stride = 3 * D
        let scale = 1 / Float(d).squareRoot()
        let sequences = offsets.count - 1
        var longest = 0
        for b in 0..<sequences { longest = max(longest, offsets[b + 1] - offsets[b]) }
        let maxLength = longest
        // One work item per (sequence, head); each writes its own [L, d] block of `out`. Items run in
        // parallel, each GEMM then on its item's thread; with OpenBLAS (which threads GEMMs above
        // ~2.6e5 multiply-adds itself) long sequences run one at a time, so it is not entered from
        // several threads at once.
        let itemsInParallel = Backend.kind == .own || maxLength * maxLength * d <= 1 << 18
        Parallel.forChunks(sequences * heads, grain: itemsInParallel ? 1 : sequences * heads) { range in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: max(1, maxLength * maxLength))
            defer { scores.deallocate() }
            for item in range {
                let b = item / heads, h = item % heads
                let start = offsets[b], L = offsets[b + 1] - start
                if L == 0 { continue }
                let q = qkv + start * stride + h * d, k = q + D, v = q + 2 * D
                // scores [L, L] = scale · q_h k_hᵀ.
                Backend.gemm(q, k, scores, m: L, n: L, k: d, transB: true, alpha: scale, lda: stride, ldb: stride, ldc: L)
                for r in 0..<L { Softmax.row(scores + r * L, count: L) }
                // out_h [L, d] = probs · v_h.
                Backend.gemm(scores, v, out + start * D + h * d, m: L, n: d, k: L, lda: L, ldb: stride, ldc: D)
            }
        }
    }
}
