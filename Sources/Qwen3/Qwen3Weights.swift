import Compute

/// One decoder layer's weights, in the order the data flows through them.
public struct Qwen3LayerWeights: @unchecked Sendable {
    public var inputNorm: Tensor            // [D]
    public var qProj: WeightMatrix, kProj: WeightMatrix, vProj: WeightMatrix   // [Hq·d, D], [Hkv·d, D], [Hkv·d, D]
    public var qBias: Tensor?, kBias: Tensor?, vBias: Tensor?, oBias: Tensor?
    public var qNorm: Tensor, kNorm: Tensor  // [d], per head before the rotary embedding
    public var oProj: WeightMatrix          // [D, Hq·d]
    public var postAttentionNorm: Tensor    // [D]
    public var gateProj: WeightMatrix, upProj: WeightMatrix  // [I, D]
    public var downProj: WeightMatrix       // [D, I]
}

/// All weights of Qwen3ForCausalLM. With tied embeddings `lmHead` is `embedTokens` itself. The
/// matrices keep a BF16 checkpoint's element type when loaded so (`keepBFloat16`); vectors are float32.
public struct Qwen3Weights: @unchecked Sendable {
    public var embedTokens: WeightMatrix  // [V, D]
    public var layers: [Qwen3LayerWeights]
    public var norm: Tensor               // [D]
    public var lmHead: WeightMatrix       // [V, D]

    /// The tensor names and shapes of a checkpoint for `config`, in transformers' naming.
    public static func expectedShapes(_ config: Qwen3Config) -> [(String, [Int])] {
        let D = config.hiddenSize, d = config.headDim, I = config.intermediateSize
        let q = config.numAttentionHeads * d, kv = config.numKeyValueHeads * d
        var list: [(String, [Int])] = [("model.embed_tokens.weight", [config.vocabSize, D])]
        for l in 0..<config.numHiddenLayers {
            let p = "model.layers.\(l)."
            list += [
                (p + "input_layernorm.weight", [D]),
                (p + "self_attn.q_proj.weight", [q, D]), (p + "self_attn.k_proj.weight", [kv, D]),
                (p + "self_attn.v_proj.weight", [kv, D]), (p + "self_attn.o_proj.weight", [D, q]),
                (p + "self_attn.q_norm.weight", [d]), (p + "self_attn.k_norm.weight", [d]),
                (p + "post_attention_layernorm.weight", [D]),
                (p + "mlp.gate_proj.weight", [I, D]), (p + "mlp.up_proj.weight", [I, D]),
                (p + "mlp.down_proj.weight", [D, I]),
            ]
            if config.attentionBias {
                list += [(p + "self_attn.q_proj.bias", [q]), (p + "self_attn.k_proj.bias", [kv]),
                         (p + "self_attn.v_proj.bias", [kv]), (p + "self_attn.o_proj.bias", [D])]
            }
        }
        list.append(("model.norm.weight", [D]))
        if !config.tieWordEmbeddings { list.append(("lm_head.weight", [config.vocabSize, D])) }
        return list
    }

    /// Strict loading: every expected tensor must be present with its exact shape, and every tensor
    /// in the source must be used. With tied embeddings a stray `lm_head.weight` is ignored. With
    /// `keepBFloat16` the matrices of a BF16 checkpoint stay BF16 (inference, frozen backbones);
    /// without, everything is float32 (training that changes the backbone).
    public static func load(_ config: Qwen3Config, from source: TensorSource, keepBFloat16: Bool = false) throws -> Qwen3Weights {
        let expected = expectedShapes(config)
        let expectedNames = Set(expected.map(\.0))
        var unused = Set(source.names).subtracting(expectedNames)
        if config.tieWordEmbeddings { unused.remove("lm_head.weight") }
        if let name = unused.sorted().first {
            throw Qwen3WeightsError("\(source.sourceDescription): unexpected tensor '\(name)'" +
                (unused.count > 1 ? " (and \(unused.count - 1) more)" : "") + " that a Qwen3 model with this config.json does not use")
        }
        for (name, shape) in expected {
            guard let found = source.shape(of: name) else {
                throw Qwen3WeightsError("\(source.sourceDescription): missing tensor '\(name)'")
            }
            if found != shape {
                throw Qwen3WeightsError("\(source.sourceDescription): tensor '\(name)' has shape \(found), config.json implies \(shape)")
            }
        }
        func t(_ name: String) throws -> Tensor { try source.tensor(name) }
        func m(_ name: String) throws -> WeightMatrix { try source.weightMatrix(name, keepBFloat16: keepBFloat16) }
        func bias(_ name: String) throws -> Tensor? { config.attentionBias ? try t(name) : nil }
        var layers: [Qwen3LayerWeights] = []
        for l in 0..<config.numHiddenLayers {
            let p = "model.layers.\(l)."
            layers.append(Qwen3LayerWeights(
                inputNorm: try t(p + "input_layernorm.weight"),
                qProj: try m(p + "self_attn.q_proj.weight"), kProj: try m(p + "self_attn.k_proj.weight"),
                vProj: try m(p + "self_attn.v_proj.weight"),
                qBias: try bias(p + "self_attn.q_proj.bias"), kBias: try bias(p + "self_attn.k_proj.bias"),
                vBias: try bias(p + "self_attn.v_proj.bias"), oBias: try bias(p + "self_attn.o_proj.bias"),
                qNorm: try t(p + "self_attn.q_norm.weight"), kNorm: try t(p + "self_attn.k_norm.weight"),
                oProj: try m(p + "self_attn.o_proj.weight"),
                postAttentionNorm: try t(p + "post_attention_layernorm.weight"),
                gateProj: try m(p + "mlp.gate_proj.weight"), upProj: try m(p + "mlp.up_proj.weight"),
                downProj: try m(p + "mlp.down_proj.weight")))
        }
        let embed = try m("model.embed_tokens.weight")
        return Qwen3Weights(
            embedTokens: embed, layers: layers, norm: try t("model.norm.weight"),
            lmHead: config.tieWordEmbeddings ? embed : try m("lm_head.weight"))
    }

    /// Zero tensors of the same shapes (gradient buffers); a tied head stays the embedding table.
    public func zerosLike() -> Qwen3Weights {
        func like(_ t: Tensor) -> Tensor { Tensor(zeros: t.shape) }
        func like(_ m: WeightMatrix) -> WeightMatrix { WeightMatrix(Tensor(zeros: m.shape)) }
        let embed = like(embedTokens)
        return Qwen3Weights(
            embedTokens: embed,
            layers: layers.map { w in
                Qwen3LayerWeights(
                    inputNorm: like(w.inputNorm), qProj: like(w.qProj), kProj: like(w.kProj), vProj: like(w.vProj),
                    qBias: w.qBias.map(like), kBias: w.kBias.map(like), vBias: w.vBias.map(like), oBias: w.oBias.map(like),
                    qNorm: like(w.qNorm), kNorm: like(w.kNorm), oProj: like(w.oProj),
                    postAttentionNorm: like(w.postAttentionNorm),
                    gateProj: like(w.gateProj), upProj: like(w.upProj), downProj: like(w.downProj))
            },
            norm: like(norm),
            lmHead: lmHead === embedTokens ? embed : like(lmHead))
    }

    /// Every tensor under its checkpoint name (tied: no `lm_head.weight`), for saving and for the
    /// optimizer. A float32 matrix is itself; a bfloat16 one comes as a widened copy (reading only:
    /// a model is trained in float32).
    public func named(_ config: Qwen3Config) -> [(String, Tensor)] {
        func f(_ m: WeightMatrix) -> Tensor { m.widened() }
        var list: [(String, Tensor)] = [("model.embed_tokens.weight", f(embedTokens))]
        for (l, w) in layers.enumerated() {
            let p = "model.layers.\(l)."
            list += [
                (p + "input_layernorm.weight", w.inputNorm),
                (p + "self_attn.q_proj.weight", f(w.qProj)), (p + "self_attn.k_proj.weight", f(w.kProj)),
                (p + "self_attn.v_proj.weight", f(w.vProj)), (p + "self_attn.o_proj.weight", f(w.oProj)),
                (p + "self_attn.q_norm.weight", w.qNorm), (p + "self_attn.k_norm.weight", w.kNorm),
                (p + "post_attention_layernorm.weight", w.postAttentionNorm),
                (p + "mlp.gate_proj.weight", f(w.gateProj)), (p + "mlp.up_proj.weight", f(w.upProj)),
                (p + "mlp.down_proj.weight", f(w.downProj)),
            ]
            for (suffix, b) in [("q", w.qBias), ("k", w.kBias), ("v", w.vBias), ("o", w.oBias)] {
                if let b { list.append((p + "self_attn.\(suffix)_proj.bias", b)) }
            }
        }
        list.append(("model.norm.weight", norm))
        if !config.tieWordEmbeddings { list.append(("lm_head.weight", f(lmHead))) }
        return list
    }

    /// Whether every matrix is float32 (a model training may change).
    public var isFloat32: Bool {
        ([embedTokens, lmHead] + layers.flatMap { [$0.qProj, $0.kProj, $0.vProj, $0.oProj, $0.gateProj, $0.upProj, $0.downProj] })
            .allSatisfy { $0.element == .float32 }
    }
}

public struct Qwen3WeightsError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
