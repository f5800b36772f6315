import Compute
import Foundation

/// A trainable module inserted after a decoder layer of a frozen Qwen3 (the memory step plugs in
/// here). It works on the residual stream of a batch, [B·T, D], in place.
public protocol TrainableModule: AnyObject {
    /// Changes `hidden` [B·T, D] in place and keeps what `backward` needs.
    func forward(_ hidden: Tensor, batch: TokenBatch)
    /// Given `gradient` = d(loss)/d(output) [B·T, D], adds the module's parameter gradients into its
    /// gradient buffers and overwrites `gradient` with d(loss)/d(input).
    func backward(_ gradient: Tensor, batch: TokenBatch)
    /// (name, value, gradient) of every trainable tensor, for the optimizer.
    var parameters: [(name: String, value: Tensor, grad: Tensor)] { get }
}

extension TrainableModule {
    public func zeroGradients() {
        for p in parameters { p.grad.fill(0) }
    }
}

/// The smallest useful trainable module, for tests and benchmarks: a residual linear map
/// h ← h + h·Aᵀ with A [D, D]. With A = 0 it is the identity, as the fusion module at step 0.
public final class ResidualLinearModule: TrainableModule {
    public let weight: Tensor
    public let weightGradient: Tensor
    /// The input of the last forward, for dA.
    private var input: Tensor?

    public init(weight: Tensor) {
        precondition(weight.rank == 2 && weight.shape[0] == weight.shape[1], "ResidualLinearModule needs a square weight, got \(weight.shape)")
        self.weight = weight
        weightGradient = Tensor(zeros: weight.shape)
    }

    public var parameters: [(name: String, value: Tensor, grad: Tensor)] { [("residual_linear.weight", weight, weightGradient)] }

    public func forward(_ hidden: Tensor, batch: TokenBatch) {
        let rows = hidden.shape[0], D = weight.shape[0]
        let x = input?.shape == hidden.shape ? input! : Tensor(zeros: hidden.shape)
        x.data.update(from: hidden.data, count: hidden.count)
        input = x
        Linear.forward(hidden.data, x.data, weight: weight.data, rows: rows, inFeatures: D, outFeatures: D, accumulate: true)
    }

    public func backward(_ gradient: Tensor, batch: TokenBatch) {
        guard let x = input else { preconditionFailure("ResidualLinearModule.backward before forward") }
        let rows = gradient.shape[0], D = weight.shape[0]
        // dA += dYᵀ·X, then dX = dY + dY·A (through a copy: dX must not alias dY inside the GEMM).
        let dY = gradient.copy()
        Linear.backward(dX: gradient.data, dWeight: weightGradient.data, dBias: nil, dY: dY.data, x: x.data,
                        weight: weight.data, rows: rows, inFeatures: D, outFeatures: D)
    }
}
