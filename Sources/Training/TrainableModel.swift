import Compute

/// What the training loop needs from a model: its trainable tensors with gradient buffers, and a
/// pass that adds the gradients of one micro batch's summed token cross-entropy.
public protocol TrainableModel: AnyObject {
    /// The trainable tensors in a fixed order, each with its gradient buffer.
    var parameters: [NamedParameter] { get }
    /// Sets every gradient buffer to zero (once per optimizer step).
    func zeroGradients()
    /// Forward and backward over `inputs` (rows of equal length, right-padded): adds the gradient of
    /// gradientScale × Σ CE(logits[b, t], targets[b][t]) over targets ≠ −100 to the gradient buffers
    /// and returns the unscaled sum and the number of target tokens.
    func accumulateGradients(inputs: [[Int32]], targets: [[Int32]], gradientScale: Float) -> (lossSum: Double, tokens: Int)
}
