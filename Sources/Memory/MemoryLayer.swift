import Compute
import Qwen3

/// The trainable modules after one memory layer ℓ (method.md §5, §11): MemoryNorm, the fusion and
/// the α gate, with their checkpoint names under `memory.layers.ℓ.`.
public final class MemoryLayer {
    /// The decoder layer ℓ this memory step follows.
    public let layer: Int
    public let norm: MemoryNorm
    public let fusion: any MemoryFusion
    public let alpha: AlphaGate

    /// Zero tensors shaped by the settings (`fusionRank`, heads, head width, F) and the backbone (D, ε);
    /// MemoryNorm's g is 1. `initialize` or a checkpoint fills them.
    public init(layer: Int, config: MemoryConfig, backbone: Qwen3Config) {
        let D = backbone.hiddenSize
        self.layer = layer
        norm = MemoryNorm(dim: D, eps: Float(backbone.rmsNormEps))
        switch config.fusion {
        case .crossAttention:
            fusion = CrossAttentionFusion(hidden: D, heads: config.fusionHeads, headDim: config.fusionHeadDim,
                                          knowledgeLength: config.knowledgeLength, rank: config.fusionRank)
        case .swiglu:
            fusion = SwiGLUFusion(hidden: D, intermediate: config.fusionIntermediate ?? D, rank: config.fusionRank)
        }
        alpha = AlphaGate(hidden: D)
    }

    public var prefix: String { "memory.layers.\(layer)" }

    /// Every trainable tensor with its §11 name and gradient buffer.
    public var parameters: [MemoryParameter] {
        norm.parameters("\(prefix).norm") + fusion.parameters("\(prefix).fusion") + alpha.parameters("\(prefix).alpha")
    }

    /// Fresh weights (method.md §5, §11): q/k/v/gate/up and every `a` factor N(0, 1/in), the
    /// position table and the null slot N(0, 0.02²), o_proj/down (or their `b`) zero, the other `b`
    /// factors N(0, 1/r); the α gate's fc1/fc2 as torch.nn.Linear (U(±1/√in)), β = 0; MemoryNorm g = 1.
    /// So the step changes nothing until o_proj/down move.
    public func initialize(_ generator: inout SeededGenerator) {
        for p in parameters {
            let name = p.name, t = p.value
            let fanIn = t.rank == 2 ? t.shape[1] : 1
            func fill(_ f: (inout SeededGenerator) -> Double) { for i in 0..<t.count { t.data[i] = Float(f(&generator)) } }
            if name.hasSuffix("norm.weight") {
                t.fill(1)
            } else if name.contains("o_proj") || name.contains("down_proj") {
                if name.hasSuffix(".a") { fill { $0.normal() / Double(fanIn).squareRoot() } } else { t.fill(0) }
            } else if name.hasSuffix("beta") {
                t.fill(0)
            } else if name.contains(".alpha.") {
                let bound = 1 / Double(name.contains("fc1") ? 1 : alpha.width).squareRoot()
                fill { (2 * $0.unit() - 1) * bound }
            } else if name.hasSuffix("position") || name.hasSuffix("null_key") || name.hasSuffix("null_value") {
                fill { 0.02 * $0.normal() }
            } else {
                fill { $0.normal() / Double(fanIn).squareRoot() }
            }
        }
    }
}
