import Foundation

/// The configuration of `explicitlm pretrain`, set by dotted `key=value` arguments
/// (`training.learning_rate=3e-4`) and a `--config` file; the keys are declared in
/// PretrainConfig+Settings.swift. Every key has a default; unknown keys and bad values are
/// errors that name the key.
public struct PretrainConfig: Sendable, Equatable {
    // model.*
    /// A Qwen3 checkpoint directory to continue training (exclusive with `configPath`).
    public var qwen3ModelPath: String?
    /// A config.json to train a model from scratch.
    public var configPath: String?
    /// tokenizer.json, or a directory holding one; default: the model's directory.
    public var tokenizerPath: String?
    public var maxSeqLen = 512
    // dataset.*
    public var datasetPath: String?
    // training.*
    public var learningRate = 3e-4
    public var batchSize = 8
    public var accumulationSteps = 1
    public var epochs = 1
    public var shuffle = true
    public var weightDecay = 0.1
    public var gradClip = 1.0
    public var warmupRatio = 0.1
    /// Ends the run after this many optimizer steps; the schedule still spans `epochs`.
    public var maxSteps: Int?
    public var seed: UInt64 = 42
    public var resume = false
    // logging.*
    public var outDir = "out"
    /// Default: `<outDir>/checkpoints`.
    public var saveDir: String?
    /// A checkpoint every this many optimizer steps (0: only at the end).
    public var saveInterval = 500

    public init() {}

    public var checkpointDirectory: String { saveDir ?? URL(fileURLWithPath: outDir).appendingPathComponent("checkpoints").path }

    /// Keys that must agree between a checkpoint and the run resuming it: they fix the data order,
    /// the schedule and the model, so a change would silently break "resumed equals uninterrupted".
    public static let resumeKeys: Set<String> = [
        "dataset.dataset_path", "model.max_seq_len", "training.accumulation_steps", "training.batch_size",
        "training.epochs", "training.learning_rate", "training.seed", "training.shuffle",
        "training.warmup_ratio", "training.weight_decay", "training.grad_clip",
    ]

    public func validate() throws {
        switch (qwen3ModelPath, configPath) {
        case (nil, nil): throw ConfigError("set model.qwen3_model_path (continue a checkpoint) or model.config_path (train from scratch)")
        case (.some, .some): throw ConfigError("model.qwen3_model_path and model.config_path are both set; choose one")
        default: break
        }
        if datasetPath == nil { throw ConfigError("dataset.dataset_path is required (a JSONL file of {\"text\": ...} lines)") }
    }
}
