import JSON

/// One metrics.jsonl line of a memory stage: per optimizer step `step`, `loss`, each loss term,
/// `lr`, `grad_norm`, `tokens_per_sec`; an evaluation line carries `step` and `eval_*` fields.
public struct MemoryStepMetrics: Sendable, Equatable {
    public var step: Int
    public var losses: StageLosses
    public var lr: Double
    public var gradNorm: Double
    public var tokensPerSec: Double

    /// Shortest exact doubles, so losses round-trip; a term the stage does not have is left out,
    /// a NaN is written as null.
    public var jsonLine: String {
        var fields: [(String, Double)] = [("loss", losses.total)]
        for (name, value) in [("loss_ce", losses.ce), ("loss_similarity", losses.similarity),
                              ("loss_diversity", losses.diversity), ("loss_router", losses.router)] {
            if let value { fields.append((name, value)) }
        }
        fields += [("lr", lr), ("grad_norm", gradNorm), ("tokens_per_sec", tokensPerSec)]
        return Self.line(step: step, fields)
    }

    /// `{"step": step, name: value, ...}` in the given order.
    static func line(step: Int, _ fields: [(String, Double)]) -> String {
        "{\"step\":\(step)" + fields.map { ",\"\($0.0)\":\(jsonNumber($0.1))" }.joined() + "}"
    }
}
