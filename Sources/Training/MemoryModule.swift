import Compute
import Memory

/// The training seam of the memory step: the step after one memory layer as a frozen-mode module of
/// `Qwen3Backprop`. It runs the same `MemoryStep` as the inference hook; the batch's candidates,
/// prompt and answer masks, selection mode and Gumbel noise come from `context`.
public final class MemoryTrainingModule: TrainableModule {
    public let step: MemoryStep
    public let context: MemoryBatchContext

    public init(step: MemoryStep, context: MemoryBatchContext) {
        self.step = step
        self.context = context
    }

    public func forward(_ hidden: Tensor, batch: TokenBatch) {
        step.forward(hidden, rows: batch.batchSize, length: batch.sequenceLength, offset: 0, context: context, saveForBackward: true)
    }

    public func backward(_ gradient: Tensor, batch: TokenBatch) {
        step.backward(gradient, context: context)
    }

    public var parameters: [(name: String, value: Tensor, grad: Tensor)] { step.module.parameters }
}

extension MemoryModel {
    /// Frozen-mode backprop with the memory step after every memory layer, for one batch and its
    /// context (checked against the batch first).
    public func backpropMode(_ context: MemoryBatchContext, batch: TokenBatch) throws -> BackpropMode {
        try check(context, batch: batch.batchSize)
        return .frozenModules(steps.map { (afterLayer: $0.module.layer, module: MemoryTrainingModule(step: $0, context: context)) })
    }
}
