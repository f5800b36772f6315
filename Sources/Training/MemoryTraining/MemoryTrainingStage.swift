import Compute
import Memory

/// What one optimizer step of a memory stage measured (method.md §6): each loss term as a mean over
/// the step, and the tokens it read.
public struct StageLosses: Sendable, Equatable {
    /// The loss the gradients are of: ce + similarity_coef·L_sim + L_router (and the reported
    /// diversity_coef·L_div, which has no gradient here).
    public var total: Double
    public var ce: Double?, similarity: Double?, diversity: Double?, router: Double?
    /// Tokens (or queries) read, for the throughput.
    public var tokens: Int

    public init(total: Double, ce: Double? = nil, similarity: Double? = nil, diversity: Double? = nil, router: Double? = nil, tokens: Int) {
        self.total = total; self.ce = ce; self.similarity = similarity; self.diversity = diversity; self.router = router; self.tokens = tokens
    }
}

/// A stage of method.md §8 as the training loop drives it: its samples, the tensors it trains, one
/// step's forward and backward, and its built-in validation.
protocol MemoryTrainingStage: AnyObject {
    /// Samples per epoch.
    var sampleCount: Int { get }
    /// The tensors AdamW updates (the others stay frozen).
    var parameters: [MemoryParameter] { get }
    /// Forward and backward over optimizer step `step`'s micro batches (sample indices), accumulating
    /// the mean loss's gradient into `parameters` (zeroed by the caller). Random draws (the
    /// counterfactual swap, Gumbel noise) come from `rng`, so a resumed run draws the same.
    func accumulate(_ microBatches: [[Int]], step: Int, rng: inout SeededGenerator) throws -> StageLosses
    /// `eval_*` metrics on the validation data (empty when there is none).
    func validate() throws -> [String: Double]
}
