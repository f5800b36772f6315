import Compute
import Foundation

/// BertModel in float32 with the same math as transformers: word + position + token-type
/// embeddings → LayerNorm → layers of (self-attention → dense → LayerNorm(+residual) → dense →
/// GELU → dense → LayerNorm(+residual)). The pooler is not part of sentence embeddings.
public final class BertModel: @unchecked Sendable {
    public let config: BertConfig
    public let weights: BertWeights

    public init(config: BertConfig, weights: BertWeights) {
        self.config = config
        self.weights = weights
    }

    /// The last hidden states of a batch of id sequences, packed: sequence b is rows
    /// offsets[b]..<offsets[b+1] of the [N, D] result (N = total ids, no padding).
    /// Token types are all 0 (single sentences).
    public func lastHiddenStates(_ batch: [[Int32]]) throws -> (hidden: Tensor, offsets: [Int]) {
        let D = config.hiddenSize, I = config.intermediateSize, H = config.numAttentionHeads
        let eps = Float(config.layerNormEps)
        var offsets = [0]
        for (b, ids) in batch.enumerated() {
            if ids.count > config.maxPositionEmbeddings {
                throw EncoderError("sequence \(b) has \(ids.count) tokens, more than max_position_embeddings \(config.maxPositionEmbeddings)")
            }
            if let bad = ids.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
                throw EncoderError("sequence \(b): token id \(bad) is outside the vocabulary of \(config.vocabSize)")
            }
            offsets.append(offsets.last! + ids.count)
        }
        let N = offsets.last!
        let x = Tensor(zeros: [N, D])
        if N == 0 { return (x, offsets) }

        // Embeddings.
        let w = weights
        for (b, ids) in batch.enumerated() {
            for (t, id) in ids.enumerated() {
                let row = x.data + (offsets[b] + t) * D
                row.update(from: w.wordEmbeddings.data + Int(id) * D, count: D)
                Vector.add(w.positionEmbeddings.data + t * D, into: row, D)
                Vector.add(w.tokenTypeEmbeddings.data, into: row, D)
            }
        }
        LayerNorm.forward(x.data, x.data, weight: w.embeddingNorm.data, bias: w.embeddingNormBias.data, rows: N, dim: D, eps: eps)

        let qkv = Tensor(zeros: [N, 3 * D]), context = Tensor(zeros: [N, D])
        let attended = Tensor(zeros: [N, D]), inner = Tensor(zeros: [N, I])
        for layer in w.layers {
            Linear.forward(qkv.data, x.data, weight: layer.qkv.data, bias: layer.qkvBias.data, rows: N, inFeatures: D, outFeatures: 3 * D)
            BertAttention.forward(context.data, qkv: qkv.data, offsets: offsets, heads: H, headDim: config.headDim)
            // attended = LayerNorm(x + context·Woᵀ + bo).
            attended.data.update(from: x.data, count: N * D)
            Linear.forward(attended.data, context.data, weight: layer.attentionOutput.data, bias: layer.attentionOutputBias.data,
                           rows: N, inFeatures: D, outFeatures: D, accumulate: true)
            LayerNorm.forward(attended.data, attended.data, weight: layer.attentionNorm.data, bias: layer.attentionNormBias.data,
                              rows: N, dim: D, eps: eps)
            // x = LayerNorm(attended + GELU(attended·Wiᵀ + bi)·Wo2ᵀ + bo2).
            Linear.forward(inner.data, attended.data, weight: layer.intermediate.data, bias: layer.intermediateBias.data,
                           rows: N, inFeatures: D, outFeatures: I)
            GELU.forward(inner.data, count: N * I)
            x.data.update(from: attended.data, count: N * D)
            Linear.forward(x.data, inner.data, weight: layer.output.data, bias: layer.outputBias.data,
                           rows: N, inFeatures: I, outFeatures: D, accumulate: true)
            LayerNorm.forward(x.data, x.data, weight: layer.outputNorm.data, bias: layer.outputNormBias.data, rows: N, dim: D, eps: eps)
        }
        return (x, offsets)
    }
}
