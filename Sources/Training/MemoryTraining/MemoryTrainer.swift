import Compute
import FileIO
import Foundation
import Memory

/// The training loop of every memory stage (method.md §8): epochs over the stage's samples in file
/// order or a seeded permutation, `batch_size` per micro batch, `accumulation_steps` micro batches
/// per optimizer step; clipping at `grad_clip`, AdamW (β 0.9/0.95, decay on matrices only) at the
/// cosine schedule's rate with linear warmup. Writes metrics.jsonl, evaluates every
/// `eval_interval` steps, checkpoints every `save_interval` steps and at the end, and resumes from
/// the latest checkpoint bit for bit.
public final class MemoryTrainer {
    public let config: MemoryTrainingConfig
    public let memory: MemoryModel
    let stage: MemoryTrainingStage
    public let optimizer: AdamW
    public let schedule: CosineSchedule
    public let stepsPerEpoch: Int
    /// Receives a progress line after every `log_interval` steps (stderr in the CLI).
    public var progress: ((String) -> Void)?
    /// More `eval_*` metrics at each evaluation (the evaluator's accuracies), beside the stage's own.
    public var evaluate: ((MemoryModel) throws -> [String: Double])?

    public private(set) var step = 0
    private var epoch = 0, index = 0
    private var order: [Int] = []
    private var rng: SeededGenerator

    init(config: MemoryTrainingConfig, memory: MemoryModel, stage: MemoryTrainingStage) {
        self.config = config
        self.memory = memory
        self.stage = stage
        optimizer = AdamW(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: config.weightDecay)
        stepsPerEpoch = CosineSchedule.stepsPerEpoch(config, samples: stage.sampleCount)
        schedule = CosineSchedule(config, samples: stage.sampleCount)
        rng = SeededGenerator(seed: config.seed)
        order = epochOrder()
    }

    public var totalSteps: Int { schedule.totalSteps }
    var saveDirectory: URL { URL(fileURLWithPath: config.checkpointDirectory) }
    /// `sft_` for the LM stages, `router_` for the router stage.
    var checkpointPrefix: String { config.stage == .router ? "router" : "sft" }
    public var latestCheckpointURL: URL { saveDirectory.appendingPathComponent("\(checkpointPrefix)_latest.safetensors") }
    public var metricsURL: URL { URL(fileURLWithPath: config.outDir).appendingPathComponent("metrics.jsonl") }

    private func epochOrder() -> [Int] { config.shuffle ? rng.permutation(stage.sampleCount) : Array(0..<stage.sampleCount) }

    /// Trains until the schedule's end or `training.max_steps`; returns the steps' metrics.
    @discardableResult
    public func run() throws -> [MemoryStepMetrics] {
        try FileManager.default.createDirectory(atPath: config.outDir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: saveDirectory, withIntermediateDirectories: true)
        FileTarget.removeLeftovers(of: latestCheckpointURL)
        let resuming = config.resume && FileManager.default.fileExists(atPath: latestCheckpointURL.path)
        if resuming {
            try restore(try MemoryTrainingCheckpoint.read(from: latestCheckpointURL))
            try TrainingLog.keepMetrics(metricsURL, upTo: step)
        }
        let metricsFile = try AppendOnlyFile(metricsURL, truncate: !resuming)
        // Evaluations: before the first step and every eval_interval steps when it is set, and at the end.
        let evaluating = config.evalInterval > 0
        if evaluating && step == 0, let line = try evaluation() { try metricsFile.append(line + "\n") }

        let end = min(totalSteps, config.maxSteps ?? totalSteps)
        var done: [MemoryStepMetrics] = []
        let started = Date(), firstStep = step
        while step < end {
            let m = try trainStep()
            try metricsFile.append(m.jsonLine + "\n")
            done.append(m)
            if step % max(config.logInterval, 1) == 0 || step == end {
                let left = Date().timeIntervalSince(started) / Double(step - firstStep) * Double(end - step)
                progress?(progressLine(m, end: end, left: left))
            }
            if evaluating && step % config.evalInterval == 0 && step < end, let line = try evaluation() {
                try metricsFile.append(line + "\n")
            }
            if config.saveInterval > 0 && step % config.saveInterval == 0 && step < end { try saveCheckpoint() }
            // trainStep moves to the next epoch before its first batch, so `epoch` is this step's.
            if config.stage == .router && (index >= order.count || step == totalSteps) {
                try memory.save(to: saveDirectory.appendingPathComponent("memory_gate_epoch_\(epoch + 1).safetensors"))
            }
        }
        if step > firstStep || !resuming, let line = try evaluation() { try metricsFile.append(line + "\n") }
        try saveCheckpoint()
        return done
    }

    private func progressLine(_ m: MemoryStepMetrics, end: Int, left: Double) -> String {
        var line = String(format: "step %d/%d  loss %.4f", step, end, m.losses.total)
        for (name, value) in [("ce", m.losses.ce), ("sim", m.losses.similarity), ("div", m.losses.diversity), ("router", m.losses.router)] {
            if let value { line += String(format: "  %@ %.4f", name, value) }
        }
        return line + String(format: "  lr %.3e  %.0f tok/s  left %@", m.lr, m.tokensPerSec, TrainingLog.clock(left))
    }

    /// One `{"step", "eval_*"}` line: the stage's validation and the evaluator's metrics; nil when
    /// there is nothing to evaluate on.
    func evaluation() throws -> String? {
        var metrics = try stage.validate()
        if let evaluate { metrics.merge(try evaluate(memory)) { $1 } }
        guard !metrics.isEmpty else { return nil }
        progress?("evaluation at step \(step): " + metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value))" }.joined(separator: "  "))
        return MemoryStepMetrics.line(step: step, metrics.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// One optimizer step over up to `accumulation_steps` micro batches.
    func trainStep() throws -> MemoryStepMetrics {
        let start = Date()
        if index >= order.count {
            epoch += 1
            index = 0
            order = epochOrder()
        }
        var microBatches: [[Int]] = []
        for _ in 0..<config.accumulationSteps where index < order.count {
            let slice = order[index..<min(index + config.batchSize, order.count)]
            index += slice.count
            microBatches.append(Array(slice))
        }
        let parameters = stage.parameters
        for p in parameters { p.grad.fill(0) }
        let losses = try stage.accumulate(microBatches, step: step, rng: &rng)
        let (norm, clip) = GradientClipping.coefficient(parameters.map(\.grad), maxNorm: config.gradClip)
        let lr = schedule.learningRate(step)
        optimizer.update(parameters, lr: lr, gradientScale: clip)
        step += 1
        let seconds = max(Date().timeIntervalSince(start), 1e-9)
        return MemoryStepMetrics(step: step, losses: losses, lr: lr, gradNorm: norm, tokensPerSec: Double(losses.tokens) / seconds)
    }

    /// `<prefix>_<step>.safetensors` and `<prefix>_latest.safetensors`, each written atomically.
    public func saveCheckpoint() throws {
        var parameters: [String: Tensor] = [:]
        for p in memory.parameters { parameters[p.name] = p.value }
        let checkpoint = MemoryTrainingCheckpoint(
            step: step, epoch: epoch, index: index, order: order, rng: rng, parameters: parameters,
            expAvg: optimizer.expAvg, expAvgSq: optimizer.expAvgSq,
            settings: Dictionary(config.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }))
        try checkpoint.write(to: saveDirectory.appendingPathComponent("\(checkpointPrefix)_\(step).safetensors"), metadata: memory.checkpointMetadata)
        try checkpoint.write(to: latestCheckpointURL, metadata: memory.checkpointMetadata)
    }

    /// Continues from a checkpoint: every memory tensor, AdamW's moments, step, data position and RNG.
    func restore(_ c: MemoryTrainingCheckpoint) throws {
        let path = latestCheckpointURL.path
        let mine = Dictionary(config.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        for key in MemoryTrainingConfig.resumeKeys.sorted() where c.settings[key] != mine[key] {
            throw ConfigError("\(path): written with \(key)=\(c.settings[key] ?? "(unset)"), this run has \(key)=\(mine[key] ?? "(unset)")")
        }
        let parameters = memory.parameters
        let names = Set(parameters.map(\.name))
        if let extra = c.parameters.keys.sorted().first(where: { !names.contains($0) }) {
            throw ConfigError("\(path): tensor \(extra) is not a memory tensor of this run")
        }
        for p in parameters {
            guard let saved = c.parameters[p.name], saved.shape == p.value.shape else {
                throw ConfigError("\(path): tensor \(p.name) is missing or not of shape \(p.value.shape)")
            }
            p.value.data.update(from: saved.data, count: saved.count)
        }
        for p in stage.parameters where c.step > 0 {
            guard c.expAvg[p.name]?.shape == p.value.shape, c.expAvgSq[p.name]?.shape == p.value.shape else {
                throw ConfigError("\(path): the AdamW moments of \(p.name) are missing or misshapen")
            }
        }
        try Pretrainer.checkOrder(c.order, index: c.index, samples: stage.sampleCount, path: path)
        optimizer.restore(step: c.step, expAvg: c.expAvg, expAvgSq: c.expAvgSq)
        step = c.step; epoch = c.epoch; index = c.index; order = c.order; rng = c.rng
    }
}
