import Foundation

/// transformers' `get_cosine_schedule_with_warmup` (num_cycles 0.5): the learning rate of optimizer
/// step `s` (0-based, the value LambdaLR holds while that step runs) is base × factor(s), with
/// factor = s / max(1, warmup) during warmup, then 0.5·(1 + cos(π · progress)), progress =
/// (s − warmup) / max(1, total − warmup), never below 0.
public struct CosineSchedule: Sendable, Equatable {
    public let baseLearningRate: Double
    public let warmupSteps: Int
    public let totalSteps: Int

    public init(baseLearningRate: Double, warmupSteps: Int, totalSteps: Int) {
        self.baseLearningRate = baseLearningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// Warmup of ceil(ratio × total) optimizer steps, in double as transformers' Trainer computes it
    /// (so 0.1 × 30 = 3.0000000000000004 gives 4, exactly as there).
    public init(baseLearningRate: Double, warmupRatio: Double, totalSteps: Int) {
        let warmup = Int((Double(totalSteps) * warmupRatio).rounded(.up))
        self.init(baseLearningRate: baseLearningRate, warmupSteps: warmup, totalSteps: totalSteps)
    }

    public func factor(_ step: Int) -> Double {
        if step < warmupSteps { return Double(step) / Double(max(1, warmupSteps)) }
        let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
        return max(0, 0.5 * (1 + cos(Double.pi * 0.5 * 2 * progress)))
    }

    public func learningRate(_ step: Int) -> Double { baseLearningRate * factor(step) }
}

extension CosineSchedule {
    /// The schedule of a run over `samples` samples: ceil(samples / batch_size) micro batches an
    /// epoch, `accumulation_steps` of them an optimizer step, `epochs` epochs.
    public init(_ settings: some TrainingRunSettings, samples: Int) {
        self.init(baseLearningRate: settings.learningRate, warmupRatio: settings.warmupRatio,
                  totalSteps: Self.stepsPerEpoch(settings, samples: samples) * settings.epochs)
    }

    public static func stepsPerEpoch(_ settings: some TrainingRunSettings, samples: Int) -> Int {
        let microBatches = (samples + settings.batchSize - 1) / settings.batchSize
        return (microBatches + settings.accumulationSteps - 1) / settings.accumulationSteps
    }
}

