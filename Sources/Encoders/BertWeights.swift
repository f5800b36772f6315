import Compute
import Foundation
import Qwen3
import SafeTensors

/// One encoder layer. Query, key and value are stacked into one [3D, D] matrix so that a single
/// GEMM computes all three.
public struct BertLayerWeights: @unchecked Sendable {
    public var qkv: Tensor, qkvBias: Tensor                  // [3D, D], [3D]
    public var attentionOutput: Tensor, attentionOutputBias: Tensor  // [D, D], [D]
    public var attentionNorm: Tensor, attentionNormBias: Tensor      // [D]
    public var intermediate: Tensor, intermediateBias: Tensor        // [I, D], [I]
    public var output: Tensor, outputBias: Tensor                    // [D, I], [D]
    public var outputNorm: Tensor, outputNormBias: Tensor            // [D]
}

/// BertModel's weights, loaded strictly: every expected tensor must be there with its shape, and
/// every tensor in the checkpoint must be used, except the known extras listed in `ignored`.
public struct BertWeights: @unchecked Sendable {
    public var wordEmbeddings: Tensor      // [V, D]
    public var positionEmbeddings: Tensor  // [P, D]
    public var tokenTypeEmbeddings: Tensor // [type vocab, D]
    public var embeddingNorm: Tensor, embeddingNormBias: Tensor  // [D]
    public var layers: [BertLayerWeights]

    /// Tensors a BERT checkpoint may carry that the encoder does not use: the pooler and
    /// pre-training heads (sentence embeddings pool the last hidden states) and index buffers.
    static func ignored(_ name: String) -> Bool {
        name.hasPrefix("pooler.") || name.hasPrefix("cls.") || name.hasSuffix("position_ids") || name.hasSuffix("token_type_ids")
    }

    /// The checkpoint's name for a canonical name: with or without the `bert.` prefix, and old
    /// LayerNorm names (gamma/beta).
    static func canonical(_ name: String) -> String {
        var n = name.hasPrefix("bert.") ? String(name.dropFirst(5)) : name
        if n.hasSuffix(".LayerNorm.gamma") { n = String(n.dropLast(5)) + "weight" }
        if n.hasSuffix(".LayerNorm.beta") { n = String(n.dropLast(4)) + "bias" }
        return n
    }

    public static func load(_ c: BertConfig, from source: TensorSource) throws -> BertWeights {
        var byCanonical: [String: String] = [:]
        for name in source.names {
            let key = canonical(name)
            if let other = byCanonical[key] {
                throw EncoderError("\(source.sourceDescription): tensors '\(other)' and '\(name)' are the same weight")
            }
            byCanonical[key] = name
        }
        var used = Set<String>()
        func take(_ key: String, _ shape: [Int]) throws -> Tensor {
            guard let name = byCanonical[key] else {
                throw EncoderError("\(source.sourceDescription): tensor '\(key)' is missing")
            }
            guard let actual = source.shape(of: name), actual == shape else {
                throw EncoderError("\(source.sourceDescription): tensor '\(name)' has shape \(source.shape(of: name) ?? []), expected \(shape)")
            }
            used.insert(name)
            return try source.tensor(name)
        }
        let D = c.hiddenSize, I = c.intermediateSize
        var w = BertWeights(
            wordEmbeddings: try take("embeddings.word_embeddings.weight", [c.vocabSize, D]),
            positionEmbeddings: try take("embeddings.position_embeddings.weight", [c.maxPositionEmbeddings, D]),
            tokenTypeEmbeddings: try take("embeddings.token_type_embeddings.weight", [c.typeVocabSize, D]),
            embeddingNorm: try take("embeddings.LayerNorm.weight", [D]),
            embeddingNormBias: try take("embeddings.LayerNorm.bias", [D]), layers: [])
        for l in 0..<c.numHiddenLayers {
            let p = "encoder.layer.\(l)."
            let q = try take(p + "attention.self.query.weight", [D, D]), k = try take(p + "attention.self.key.weight", [D, D])
            let v = try take(p + "attention.self.value.weight", [D, D])
            let qb = try take(p + "attention.self.query.bias", [D]), kb = try take(p + "attention.self.key.bias", [D])
            let vb = try take(p + "attention.self.value.bias", [D])
            w.layers.append(BertLayerWeights(
                qkv: stack([q, k, v], shape: [3 * D, D]), qkvBias: stack([qb, kb, vb], shape: [3 * D]),
                attentionOutput: try take(p + "attention.output.dense.weight", [D, D]),
                attentionOutputBias: try take(p + "attention.output.dense.bias", [D]),
                attentionNorm: try take(p + "attention.output.LayerNorm.weight", [D]),
                attentionNormBias: try take(p + "attention.output.LayerNorm.bias", [D]),
                intermediate: try take(p + "intermediate.dense.weight", [I, D]),
                intermediateBias: try take(p + "intermediate.dense.bias", [I]),
                output: try take(p + "output.dense.weight", [D, I]), outputBias: try take(p + "output.dense.bias", [D]),
                outputNorm: try take(p + "output.LayerNorm.weight", [D]),
                outputNormBias: try take(p + "output.LayerNorm.bias", [D])))
        }
        if let unused = source.names.sorted().first(where: { !used.contains($0) && !ignored(canonical($0)) }) {
            throw EncoderError("\(source.sourceDescription): tensor '\(unused)' is not used by a BERT encoder of this config")
        }
        return w
    }

    static func stack(_ parts: [Tensor], shape: [Int]) -> Tensor {
        let out = Tensor(zeros: shape)
        var offset = 0
        for p in parts {
            (out.data + offset).update(from: p.data, count: p.count)
            offset += p.count
        }
        return out
    }
}
