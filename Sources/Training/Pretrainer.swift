import Compute
import FileIO
import Foundation
import JSON

/// What one optimizer step did.
public struct StepMetrics: Sendable, Equatable {
    public var step: Int
    public var loss: Double
    public var lr: Double
    public var tokensPerSec: Double
    public var gradNorm: Double

    public init(step: Int, loss: Double, lr: Double, tokensPerSec: Double, gradNorm: Double) {
        self.step = step; self.loss = loss; self.lr = lr; self.tokensPerSec = tokensPerSec; self.gradNorm = gradNorm
    }

    /// One metrics.jsonl line. Doubles print in their shortest exact form, so losses round-trip; a
    /// diverged run's NaN is written as null.
    public var jsonLine: String {
        "{\"step\":\(step),\"loss\":\(jsonNumber(loss)),\"lr\":\(jsonNumber(lr)),\"tokens_per_sec\":\(jsonNumber(tokensPerSec)),"
            + "\"grad_norm\":\(jsonNumber(gradNorm))}"
    }
}

/// The training loop of `explicitlm pretrain`, for any `TrainableModel`.
///
/// An epoch reads the samples in file order (or a seeded permutation), `batchSize` per micro batch,
/// `accumulationSteps` micro batches per optimizer step; the last step of an epoch may have fewer.
/// The loss of a step is Σ token CE over its micro batches ÷ its loss tokens; gradients are scaled
/// the same way, clipped to `gradClip` (global norm), and AdamW steps at the cosine schedule's rate.
public final class Pretrainer {
    public let config: PretrainConfig
    public let model: TrainableModel
    public let data: PretrainData
    /// config.json of the model, stored in checkpoints.
    public let modelConfig: String
    /// Receives the progress line after every step (stderr in the CLI).
    public var progress: ((String) -> Void)?

    public let optimizer: AdamW
    public let schedule: CosineSchedule
    public let stepsPerEpoch: Int

    public private(set) var step = 0
    private var epoch = 0, index = 0
    private var order: [Int] = []
    private var rng: SeededGenerator

    public init(config: PretrainConfig, model: TrainableModel, data: PretrainData, modelConfig: String = "") {
        self.config = config
        self.model = model
        self.data = data
        self.modelConfig = modelConfig
        optimizer = AdamW(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: config.weightDecay)
        stepsPerEpoch = CosineSchedule.stepsPerEpoch(config, samples: data.sequences.count)
        schedule = CosineSchedule(config, samples: data.sequences.count)
        rng = SeededGenerator(seed: config.seed)
        order = epochOrder()
    }

    public var totalSteps: Int { schedule.totalSteps }
    public var checkpointURL: URL { URL(fileURLWithPath: config.checkpointDirectory).appendingPathComponent(TrainingCheckpoint.fileName) }
    public var metricsURL: URL { URL(fileURLWithPath: config.outDir).appendingPathComponent("metrics.jsonl") }

    private func epochOrder() -> [Int] {
        config.shuffle ? rng.permutation(data.sequences.count) : Array(0..<data.sequences.count)
    }

    /// Trains until the schedule's end or `maxSteps`, writing metrics and checkpoints. With
    /// `resume`, first continues from the checkpoint in the save directory when there is one.
    @discardableResult
    public func run() throws -> [StepMetrics] {
        try FileManager.default.createDirectory(atPath: config.outDir, withIntermediateDirectories: true)
        // Temporary files of saves that a killed process never finished.
        FileTarget.removeLeftovers(of: checkpointURL)
        let resuming = config.resume && FileManager.default.fileExists(atPath: checkpointURL.path)
        if resuming {
            try restore(try TrainingCheckpoint.read(from: checkpointURL))
            try TrainingLog.keepMetrics(metricsURL, upTo: step)
        }
        let metricsFile = try AppendOnlyFile(metricsURL, truncate: !resuming)

        let end = min(totalSteps, config.maxSteps ?? totalSteps)
        var done: [StepMetrics] = []
        let started = Date()
        let firstStep = step
        while step < end {
            let m = trainStep()
            try metricsFile.append(m.jsonLine + "\n")
            done.append(m)
            let elapsed = Date().timeIntervalSince(started)
            let left = elapsed / Double(step - firstStep) * Double(end - step)
            progress?(String(format: "step %d/%d  loss %.4f  lr %.3e  %.0f tok/s  left %@",
                             step, end, m.loss, m.lr, m.tokensPerSec, TrainingLog.clock(left)))
            if config.saveInterval > 0, step % config.saveInterval == 0, step < end { try saveCheckpoint() }
        }
        try saveCheckpoint()
        return done
    }

    /// One optimizer step over up to `accumulationSteps` micro batches.
    func trainStep() -> StepMetrics {
        let start = Date()
        if index >= order.count {
            epoch += 1
            index = 0
            order = epochOrder()
        }
        var batches: [(inputs: [[Int32]], targets: [[Int32]], realTokens: Int)] = []
        for _ in 0..<config.accumulationSteps where index < order.count {
            let slice = order[index..<min(index + config.batchSize, order.count)]
            index += slice.count
            batches.append(data.batch(slice))
        }
        // The loss is the mean over the step's loss tokens: each micro batch's backward is scaled by
        // 1 / (loss tokens of the whole step), as PyTorch's (Σ CE / tokens).backward() per micro batch.
        let stepTokens = batches.reduce(0) { sum, b in sum + b.targets.reduce(0) { $0 + $1.filter { $0 != CrossEntropy.ignoreIndex }.count } }
        let scale = Float(1 / Double(max(stepTokens, 1)))
        model.zeroGradients()
        var lossSum = 0.0, lossTokens = 0
        for b in batches {
            let (sum, tokens) = model.accumulateGradients(inputs: b.inputs, targets: b.targets, gradientScale: scale)
            lossSum += sum
            lossTokens += tokens
        }
        precondition(lossTokens == stepTokens, "the model counted \(lossTokens) loss tokens, the batches hold \(stepTokens)")
        let realTokens = batches.reduce(0) { $0 + $1.realTokens }
        let parameters = model.parameters
        let (norm, clip) = GradientClipping.coefficient(parameters.map(\.grad), maxNorm: config.gradClip)
        let lr = schedule.learningRate(step)
        optimizer.update(parameters, lr: lr, gradientScale: clip)
        step += 1
        let seconds = max(Date().timeIntervalSince(start), 1e-9)
        return StepMetrics(step: step, loss: lossTokens > 0 ? lossSum / Double(lossTokens) : 0, lr: lr,
                           tokensPerSec: Double(realTokens) / seconds, gradNorm: norm)
    }

    /// Writes the checkpoint of the current state.
    public func saveCheckpoint() throws {
        try FileManager.default.createDirectory(atPath: config.checkpointDirectory, withIntermediateDirectories: true)
        var parameters: [String: Tensor] = [:]
        for p in model.parameters { parameters[p.name] = p.value }
        try TrainingCheckpoint(
            step: step, epoch: epoch, index: index, order: order, rng: rng, parameters: parameters,
            expAvg: optimizer.expAvg, expAvgSq: optimizer.expAvgSq,
            settings: Dictionary(uniqueKeysWithValues: config.settings.map { ($0.key, $0.value) }),
            modelConfig: modelConfig
        ).write(to: checkpointURL)
    }

    /// Continues from a checkpoint: parameters, moments, step, data position and RNG.
    public func restore(_ c: TrainingCheckpoint) throws {
        let path = checkpointURL.path
        let mine = Dictionary(uniqueKeysWithValues: config.settings.map { ($0.key, $0.value) })
        for key in PretrainConfig.resumeKeys.sorted() where c.settings[key] != mine[key] {
            throw ConfigError("\(path): written with \(key)=\(c.settings[key] ?? "(unset)"), this run has \(key)=\(mine[key] ?? "")")
        }
        let parameters = model.parameters
        let names = Set(parameters.map(\.name))
        if let extra = c.parameters.keys.sorted().first(where: { !names.contains($0) }) {
            throw ConfigError("\(path): tensor param.\(extra) is not a parameter of this model")
        }
        for p in parameters {
            guard let saved = c.parameters[p.name] else { throw ConfigError("\(path): missing tensor param.\(p.name)") }
            guard saved.shape == p.value.shape else {
                throw ConfigError("\(path): param.\(p.name) has shape \(saved.shape), the model has \(p.value.shape)")
            }
            p.value.data.update(from: saved.data, count: saved.count)
            for (kind, table) in [("exp_avg", c.expAvg), ("exp_avg_sq", c.expAvgSq)] where c.step > 0 {
                guard table[p.name]?.shape == p.value.shape else {
                    throw ConfigError("\(path): \(kind).\(p.name) is missing or has the wrong shape")
                }
            }
        }
        try Self.checkOrder(c.order, index: c.index, samples: data.sequences.count, path: path)
        optimizer.restore(step: c.step, expAvg: c.expAvg, expAvgSq: c.expAvgSq)
        step = c.step; epoch = c.epoch; index = c.index; order = c.order; rng = c.rng
    }

    /// A checkpoint's sample order must be a permutation of the dataset's samples and its position
    /// inside it: anything else would index outside the dataset on resume.
    static func checkOrder(_ order: [Int], index: Int, samples: Int, path: String) throws {
        guard order.count == samples else {
            throw ConfigError("\(path): data.order has \(order.count) entries, the dataset has \(samples) samples")
        }
        guard index <= order.count else {
            throw ConfigError("\(path): __metadata__ \"index\" is \(index), past the end of data.order (\(order.count) entries)")
        }
        var seen = [Bool](repeating: false, count: samples)
        for (i, sample) in order.enumerated() {
            guard sample >= 0, sample < samples else {
                throw ConfigError("\(path): data.order[\(i)] is \(sample): sample indices must be in 0..<\(samples)")
            }
            guard !seen[sample] else { throw ConfigError("\(path): data.order[\(i)] repeats sample \(sample)") }
            seen[sample] = true
        }
    }
}
