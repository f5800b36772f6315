import Compute
import Qwen3

/// Every weight of a Qwen3 model trainable (full mode): the `TrainableModel` that pretraining uses.
/// AdamW updates the model's weight tensors in place, so the model always holds the current weights.
public final class Qwen3FullTraining: TrainableModel {
    public let model: Qwen3Model
    public let gradients: Qwen3Gradients
    private let backprop: Qwen3Backprop
    public let parameters: [NamedParameter]

    public init(model: Qwen3Model) {
        self.model = model
        gradients = Qwen3Gradients(model: model)
        backprop = Qwen3Backprop(model: model)
        parameters = gradients.parameters
    }

    public func zeroGradients() { gradients.zero() }

    public func accumulateGradients(inputs: [[Int32]], targets: [[Int32]], gradientScale: Float) -> (lossSum: Double, tokens: Int) {
        backprop.step(TokenBatch(inputs: inputs, targets: targets), mode: .full(gradients), gradientScale: gradientScale)
    }
}
