import Compute
import Foundation

/// Qwen3ForCausalLM in float32 (BF16 weight matrices widened inside the kernels), with the same math as transformers: embedding → decoder layers
/// (RMSNorm → attention with per-head q/k RMSNorm and split-half rotary embedding → residual →
/// RMSNorm → SwiGLU MLP → residual) → final RMSNorm → LM head.
public final class Qwen3Model: @unchecked Sendable {
    public let config: Qwen3Config
    public let weights: Qwen3Weights
    public let rotary: RotaryEmbedding

    public init(config: Qwen3Config, weights: Qwen3Weights) {
        self.config = config
        self.weights = weights
        rotary = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta)
    }

    /// Which positions get logits.
    public enum Logits: Sendable { case all, last, none }

    /// Called after decoder layer `layer` with the residual stream [T, D] of the tokens of this
    /// pass, which it may change in place (the memory step hooks in here).
    public typealias LayerHook = (_ layer: Int, _ hidden: Tensor, _ positions: Range<Int>) -> Void

    /// Runs `ids` after what `cache` already holds and appends their keys and values to it.
    /// Long inputs are processed in chunks of `chunkSize` tokens (chunked prefill).
    /// Returns logits [positions, vocab] for the requested positions.
    public func forward(
        _ ids: [Int32], cache: KVCache, logits: Logits = .all, chunkSize: Int = 512, afterLayer: LayerHook? = nil
    ) -> Tensor {
        precondition(!ids.isEmpty, "forward needs at least one token")
        let V = config.vocabSize
        let rows = logits == .all ? ids.count : (logits == .last ? 1 : 0)
        let out = Tensor(zeros: [rows, V])
        var start = 0
        while start < ids.count {
            let end = min(ids.count, start + chunkSize)
            let hidden = hiddenStates(Array(ids[start..<end]), cache: cache, afterLayer: afterLayer)
            switch logits {
            case .all: head(hidden, rows: 0..<(end - start), into: out.data + start * V)
            case .last where end == ids.count: head(hidden, rows: (end - start - 1)..<(end - start), into: out.data)
            default: break
            }
            start = end
        }
        return out
    }

    /// The residual stream after all decoder layers (before the final norm), [T, D].
    public func hiddenStates(_ ids: [Int32], cache: KVCache, afterLayer: LayerHook? = nil) -> Tensor {
        let T = ids.count, D = config.hiddenSize
        for id in ids where id < 0 || Int(id) >= config.vocabSize {
            preconditionFailure("token id \(id) is outside the vocabulary of \(config.vocabSize)")
        }
        let hidden = Tensor(zeros: [T, D])
        ids.withUnsafeBufferPointer { Embedding.forward(hidden.data, table: weights.embedTokens, ids: $0.baseAddress!, tokens: T, dim: D) }
        cache.reserve(T)
        let positions = cache.length..<(cache.length + T)
        let (cos, sin) = rotary.tables(positions: positions)
        let scratch = LayerScratch(config: config, tokens: T, keys: cache.length + T)
        for l in 0..<config.numHiddenLayers {
            decoderLayer(l, hidden, cache: cache, cos: cos, sin: sin, scratch: scratch)
            afterLayer?(l, hidden, positions)
        }
        cache.advance(T)
        return hidden
    }

    /// Final RMSNorm and LM head for the given rows of `hidden`, written to `out` [rows, V].
    public func head(_ hidden: Tensor, rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let D = config.hiddenSize
        let normed = Tensor(zeros: [rows.count, D])
        RMSNorm.forward(normed.data, hidden.data + rows.lowerBound * D, weight: weights.norm.data,
                        rows: rows.count, dim: D, eps: Float(config.rmsNormEps))
        Linear.forward(out, normed.data, weight: weights.lmHead, rows: rows.count,
                       inFeatures: D, outFeatures: config.vocabSize)
    }

    /// One decoder layer, in place on the residual stream `h` [T, D].
    func decoderLayer(_ l: Int, _ h: Tensor, cache: KVCache, cos: Tensor, sin: Tensor, scratch s: LayerScratch) {
        let w = weights.layers[l]
        let T = h.shape[0], D = config.hiddenSize, d = config.headDim, I = config.intermediateSize
        let Hq = config.numAttentionHeads, Hkv = config.numKeyValueHeads
        let eps = Float(config.rmsNormEps)
        let past = cache.length, S = past + T
        let kRows = cache.keys[l].data + past * Hkv * d, vRows = cache.values[l].data + past * Hkv * d

        // Attention block.
        RMSNorm.forward(s.normed.data, h.data, weight: w.inputNorm.data, rows: T, dim: D, eps: eps)
        Linear.forward(s.q.data, s.normed.data, weight: w.qProj, bias: w.qBias?.data, rows: T, inFeatures: D, outFeatures: Hq * d)
        Linear.forward(kRows, s.normed.data, weight: w.kProj, bias: w.kBias?.data, rows: T, inFeatures: D, outFeatures: Hkv * d)
        Linear.forward(vRows, s.normed.data, weight: w.vProj, bias: w.vBias?.data, rows: T, inFeatures: D, outFeatures: Hkv * d)
        RMSNorm.forward(s.q.data, s.q.data, weight: w.qNorm.data, rows: T * Hq, dim: d, eps: eps)
        RMSNorm.forward(kRows, kRows, weight: w.kNorm.data, rows: T * Hkv, dim: d, eps: eps)
        rotary.apply(s.q.data, cos: cos, sin: sin, tokens: T, heads: Hq)
        rotary.apply(kRows, cos: cos, sin: sin, tokens: T, heads: Hkv)
        Attention.forward(s.attention.data, q: s.q.data, k: cache.keys[l].data, v: cache.values[l].data,
                          scratch: s.scores.data, queries: T, keys: S, heads: Hq, kvHeads: Hkv, headDim: d)
        Linear.forward(h.data, s.attention.data, weight: w.oProj, bias: w.oBias?.data, rows: T,
                       inFeatures: Hq * d, outFeatures: D, accumulate: true)

        // MLP block.
        RMSNorm.forward(s.normed.data, h.data, weight: w.postAttentionNorm.data, rows: T, dim: D, eps: eps)
        Linear.forward(s.gate.data, s.normed.data, weight: w.gateProj, rows: T, inFeatures: D, outFeatures: I)
        Linear.forward(s.up.data, s.normed.data, weight: w.upProj, rows: T, inFeatures: D, outFeatures: I)
        SwiGLU.forward(s.gate.data, gate: s.gate.data, up: s.up.data, count: T * I)
        Linear.forward(h.data, s.gate.data, weight: w.downProj, rows: T, inFeatures: I, outFeatures: D, accumulate: true)
    }
}

/// Activation buffers of one decoder layer for T tokens, reused by every layer of a pass.
final class LayerScratch {
    let normed, q, attention, gate, up, scores: Tensor
    init(config c: Qwen3Config, tokens T: Int, keys S: Int) {
        normed = Tensor(zeros: [T, c.hiddenSize])
        q = Tensor(zeros: [T, c.numAttentionHeads * c.headDim])
        attention = Tensor(zeros: [T, c.numAttentionHeads * c.headDim])
        gate = Tensor(zeros: [T, c.intermediateSize])
        up = Tensor(zeros: [T, c.intermediateSize])
        scores = Tensor(zeros: [T, S])
    }
}
