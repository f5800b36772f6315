import Compute
import Qwen3

/// What the backward pass of one decoder layer needs, saved by the training forward, for N = B·T
/// rows. Names follow the data flow of `Qwen3Model.decoderLayer`.
final class LayerActivations {
    let input: Tensor            // [N, D] residual stream entering the layer
    let inputRstd: Tensor        // [N]
    let normed: Tensor           // [N, D] input RMSNorm output, read by q/k/v projections
    let qRaw, qRstd, q: Tensor   // [N, Hq·d] projection; [N·Hq]; after q_norm and rotary
    let kRaw, kRstd, k: Tensor   // [N, Hkv·d]; [N·Hkv]; after k_norm and rotary
    let v: Tensor                // [N, Hkv·d]
    let probs: Tensor?           // [B, Hq, T, T] attention weights, when kept
    let softmaxStats: Tensor?    // [B, Hq, T, 2] else: each row's softmax max and 1/Σexp to recompute them
    let attention: Tensor        // [N, Hq·d] attention output, read by o_proj
    let mid: Tensor              // [N, D] residual stream after the attention block
    let midRstd: Tensor          // [N]
    let midNormed: Tensor        // [N, D] post-attention RMSNorm output
    let gate, up, act: Tensor    // [N, I] pre-activations and silu(gate)·up

    /// The bytes one layer's buffers take at batch × length.
    static func bytes(config c: Qwen3Config, batch B: Int, length T: Int, keepsAttentionWeights: Bool) -> Int {
        4 * (B * T * floatsPerToken(config: c) + attentionWeightFloats(config: c, batch: B, length: T, kept: keepsAttentionWeights))
    }

    /// The floats of every buffer but the attention weights, per token.
    static func floatsPerToken(config c: Qwen3Config) -> Int {
        let D = c.hiddenSize, I = c.intermediateSize, Hq = c.numAttentionHeads, Hkv = c.numKeyValueHeads
        let q = Hq * c.headDim, kv = Hkv * c.headDim
        return 4 * D + 2 + 3 * q + Hq + 3 * kv + Hkv + 3 * I
    }

    /// The floats of `probs` when `kept`, else of `softmaxStats`.
    static func attentionWeightFloats(config c: Qwen3Config, batch B: Int, length T: Int, kept: Bool) -> Int {
        B * c.numAttentionHeads * T * (kept ? T : 2)
    }

    init(config c: Qwen3Config, batch B: Int, length T: Int, keepsAttentionWeights: Bool) {
        let N = B * T, D = c.hiddenSize, I = c.intermediateSize
        let q = c.numAttentionHeads * c.headDim, kv = c.numKeyValueHeads * c.headDim
        input = Tensor(zeros: [N, D]); inputRstd = Tensor(zeros: [N]); normed = Tensor(zeros: [N, D])
        qRaw = Tensor(zeros: [N, q]); qRstd = Tensor(zeros: [N * c.numAttentionHeads]); self.q = Tensor(zeros: [N, q])
        kRaw = Tensor(zeros: [N, kv]); kRstd = Tensor(zeros: [N * c.numKeyValueHeads]); k = Tensor(zeros: [N, kv])
        v = Tensor(zeros: [N, kv])
        probs = keepsAttentionWeights ? Tensor(zeros: [B, c.numAttentionHeads, T, T]) : nil
        softmaxStats = keepsAttentionWeights ? nil : Tensor(zeros: [B, c.numAttentionHeads, T, 2])
        attention = Tensor(zeros: [N, q])
        mid = Tensor(zeros: [N, D]); midRstd = Tensor(zeros: [N]); midNormed = Tensor(zeros: [N, D])
        gate = Tensor(zeros: [N, I]); up = Tensor(zeros: [N, I]); act = Tensor(zeros: [N, I])
        // `bytes` restates these shapes as a formula (memory planning reads it before allocating):
        // a buffer added here must be counted there.
        let all: [Tensor?] = [input, inputRstd, normed, qRaw, qRstd, self.q, kRaw, kRstd, k, v, probs, softmaxStats,
                              attention, mid, midRstd, midNormed, gate, up, act]
        precondition(4 * all.reduce(0) { $0 + ($1?.count ?? 0) }
                      == Self.bytes(config: c, batch: B, length: T, keepsAttentionWeights: keepsAttentionWeights),
                      "LayerActivations.bytes does not count the buffers init allocates")
    }
}

/// Gradient buffers shared by the backward pass of every layer.
final class BackwardScratch {
    let normed: Tensor               // [N, D] d(normed)
    let act, gate, up: Tensor        // [N, I]
    let attention, q: Tensor         // [N, Hq·d]
    let k, v, kRaw: Tensor           // [N, Hkv·d]
    let scores: Tensor               // [T, T]
    let weights: Tensor?             // [T, T] one head's recomputed attention weights, when not kept
    let replay: Tensor               // [N, D] the residual stream of a recomputed layer

    init(config c: Qwen3Config, batch B: Int, length T: Int, keepsAttentionWeights: Bool) {
        let N = B * T, D = c.hiddenSize, I = c.intermediateSize
        let q = c.numAttentionHeads * c.headDim, kv = c.numKeyValueHeads * c.headDim
        normed = Tensor(zeros: [N, D])
        act = Tensor(zeros: [N, I]); gate = Tensor(zeros: [N, I]); up = Tensor(zeros: [N, I])
        attention = Tensor(zeros: [N, q]); self.q = Tensor(zeros: [N, q])
        k = Tensor(zeros: [N, kv]); v = Tensor(zeros: [N, kv]); kRaw = Tensor(zeros: [N, kv])
        scores = Tensor(zeros: [T, T])
        weights = keepsAttentionWeights ? nil : Tensor(zeros: [T, T])
        replay = Tensor(zeros: [N, D])
    }
}
