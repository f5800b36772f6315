import Compute
import Qwen3

/// Gradients of one decoder layer, mirroring `Qwen3LayerWeights`.
public struct Qwen3LayerGradients: @unchecked Sendable {
    public var inputNorm: Tensor
    public var qProj: Tensor, kProj: Tensor, vProj: Tensor
    public var qBias: Tensor?, kBias: Tensor?, vBias: Tensor?, oBias: Tensor?
    public var qNorm: Tensor, kNorm: Tensor
    public var oProj: Tensor
    public var postAttentionNorm: Tensor
    public var gateProj: Tensor, upProj: Tensor
    public var downProj: Tensor
}

/// Full-mode gradients of every weight of a Qwen3 model, one tensor per weight (llm.c style: zeroed
/// once per optimizer step, then every backward pass adds into them). With tied embeddings `lmHead`
/// is `embedTokens` itself, so the head's and the embedding's gradients add into the one tensor.
public final class Qwen3Gradients: @unchecked Sendable {
    public let config: Qwen3Config
    /// The weights these are the gradients of (the `value`s of `parameters`).
    public let weights: Qwen3Weights
    public var embedTokens: Tensor
    public var layers: [Qwen3LayerGradients]
    public var norm: Tensor
    public var lmHead: Tensor

    public convenience init(model: Qwen3Model) {
        self.init(config: model.config, weights: model.weights)
    }

    public init(config: Qwen3Config, weights: Qwen3Weights) {
        self.config = config
        self.weights = weights
        func like(_ t: Tensor) -> Tensor { Tensor(zeros: t.shape) }
        embedTokens = like(weights.embedTokens)
        layers = weights.layers.map { w in
            Qwen3LayerGradients(
                inputNorm: like(w.inputNorm), qProj: like(w.qProj), kProj: like(w.kProj), vProj: like(w.vProj),
                qBias: w.qBias.map(like), kBias: w.kBias.map(like), vBias: w.vBias.map(like), oBias: w.oBias.map(like),
                qNorm: like(w.qNorm), kNorm: like(w.kNorm), oProj: like(w.oProj),
                postAttentionNorm: like(w.postAttentionNorm),
                gateProj: like(w.gateProj), upProj: like(w.upProj), downProj: like(w.downProj))
        }
        norm = like(weights.norm)
        let tied = config.tieWordEmbeddings || weights.lmHead === weights.embedTokens
        lmHead = tied ? embedTokens : like(weights.lmHead)
    }

    /// Every gradient under its weight's checkpoint name (tied: no `lm_head.weight`).
    public var named: [(String, Tensor)] {
        var list: [(String, Tensor)] = [("model.embed_tokens.weight", embedTokens)]
        for (l, g) in layers.enumerated() {
            let p = "model.layers.\(l)."
            list += [
                (p + "input_layernorm.weight", g.inputNorm),
                (p + "self_attn.q_proj.weight", g.qProj), (p + "self_attn.k_proj.weight", g.kProj),
                (p + "self_attn.v_proj.weight", g.vProj), (p + "self_attn.o_proj.weight", g.oProj),
                (p + "self_attn.q_norm.weight", g.qNorm), (p + "self_attn.k_norm.weight", g.kNorm),
                (p + "post_attention_layernorm.weight", g.postAttentionNorm),
                (p + "mlp.gate_proj.weight", g.gateProj), (p + "mlp.up_proj.weight", g.upProj),
                (p + "mlp.down_proj.weight", g.downProj),
            ]
            for (suffix, b) in [("q", g.qBias), ("k", g.kBias), ("v", g.vBias), ("o", g.oBias)] {
                if let b { list.append((p + "self_attn.\(suffix)_proj.bias", b)) }
            }
        }
        list.append(("model.norm.weight", norm))
        if lmHead !== embedTokens { list.append(("lm_head.weight", lmHead)) }
        return list
    }

    /// (checkpoint name, weight, gradient) for every weight, in `Qwen3Weights.named` order: what the
    /// optimizer walks.
    public var parameters: [(name: String, value: Tensor, grad: Tensor)] {
        let values = Dictionary(uniqueKeysWithValues: weights.named(config))
        return named.map { name, grad in
            guard let value = values[name] else { preconditionFailure("no weight named \(name)") }
            return (name, value, grad)
        }
    }

    /// Sets every gradient to zero (once per optimizer step).
    public func zero() {
        for (_, g) in named { g.fill(0) }
    }
}
