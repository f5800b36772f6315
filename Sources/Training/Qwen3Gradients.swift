import Compute
import Qwen3

/// Gradients of one decoder layer: one tensor per weight, in the weights' own layout.
public typealias Qwen3LayerGradients = Qwen3LayerWeights

/// Full-mode gradients of every weight of a Qwen3 model, one tensor per weight (llm.c style: zeroed
/// once per optimizer step, then every backward pass adds into them). They are held as a
/// `Qwen3Weights` of zero tensors, so names and shapes can never disagree with the weights. With tied
/// embeddings `lmHead` is `embedTokens` itself, so the head's and the embedding's gradients add into
/// the one tensor.
public final class Qwen3Gradients: @unchecked Sendable {
    public let config: Qwen3Config
    /// The weights these are the gradients of (the `value`s of `parameters`).
    public let weights: Qwen3Weights
    /// The gradient buffers, shaped and named as `weights`.
    public let buffers: Qwen3Weights

    public var embedTokens: Tensor { buffers.embedTokens.float32! }
    public var layers: [Qwen3LayerGradients] { buffers.layers }
    public var norm: Tensor { buffers.norm }
    public var lmHead: Tensor { buffers.lmHead.float32! }

    public convenience init(model: Qwen3Model) {
        self.init(config: model.config, weights: model.weights)
    }

    public init(config: Qwen3Config, weights: Qwen3Weights) {
        precondition(weights.isFloat32, "full training needs the backbone in float32: load it with keepBFloat16: false")
        self.config = config
        self.weights = weights
        buffers = weights.zerosLike()
    }

    /// Every gradient under its weight's checkpoint name (tied: no `lm_head.weight`).
    public var named: [(String, Tensor)] { buffers.named(config) }

    /// (checkpoint name, weight, gradient) for every weight, in `Qwen3Weights.named` order: what the
    /// optimizer walks.
    public var parameters: [(name: String, value: Tensor, grad: Tensor)] {
        zip(weights.named(config), named).map { value, grad in (value.0, value.1, grad.1) }
    }

    /// Sets every gradient to zero (once per optimizer step).
    public func zero() {
        for (_, g) in named { g.fill(0) }
    }
}
