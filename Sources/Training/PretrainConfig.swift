import Foundation

/// The configuration of `explicitlm pretrain`, set by dotted `key=value` arguments
/// (`training.learning_rate=3e-4`). Every key has a default; unknown keys and bad values are
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

    /// Applies `key=value` arguments in order over the defaults, then checks the whole.
    public init(arguments: [String]) throws {
        self.init()
        for argument in arguments {
            guard let eq = argument.firstIndex(of: "=") else {
                throw ConfigError("'\(argument)': expected key=value, e.g. training.learning_rate=3e-4")
            }
            try set(String(argument[..<eq]), String(argument[argument.index(after: eq)...]))
        }
        try validate()
    }

    public var checkpointDirectory: String { saveDir ?? URL(fileURLWithPath: outDir).appendingPathComponent("checkpoints").path }

    /// Sets one key from its text.
    public mutating func set(_ key: String, _ text: String) throws {
        guard let setter = Self.setters[key] else {
            throw ConfigError("unknown key '\(key)' (known keys: \(Self.setters.keys.sorted().joined(separator: ", ")))")
        }
        try setter(&self, text, key)
    }

    /// Every key with its current value as text, in key order: the run's full configuration.
    public var settings: [(key: String, value: String)] {
        func text(_ v: String?) -> String { v ?? "" }
        return [
            ("dataset.dataset_path", text(datasetPath)),
            ("logging.out_dir", outDir), ("logging.save_dir", checkpointDirectory),
            ("logging.save_interval", "\(saveInterval)"),
            ("model.config_path", text(configPath)), ("model.max_seq_len", "\(maxSeqLen)"),
            ("model.qwen3_model_path", text(qwen3ModelPath)), ("model.tokenizer_path", text(tokenizerPath)),
            ("training.accumulation_steps", "\(accumulationSteps)"), ("training.batch_size", "\(batchSize)"),
            ("training.epochs", "\(epochs)"), ("training.grad_clip", "\(gradClip)"),
            ("training.learning_rate", "\(learningRate)"), ("training.max_steps", maxSteps.map { "\($0)" } ?? ""),
            ("training.resume", "\(resume)"), ("training.seed", "\(seed)"), ("training.shuffle", "\(shuffle)"),
            ("training.warmup_ratio", "\(warmupRatio)"), ("training.weight_decay", "\(weightDecay)"),
        ]
    }

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

    private typealias Setter = @Sendable (inout PretrainConfig, String, String) throws -> Void

    private static let setters: [String: Setter] = [
        "model.qwen3_model_path": { c, v, k in c.qwen3ModelPath = try path(v, k) },
        "model.config_path": { c, v, k in c.configPath = try path(v, k) },
        "model.tokenizer_path": { c, v, k in c.tokenizerPath = try path(v, k) },
        "model.max_seq_len": { c, v, k in c.maxSeqLen = try int(v, k, min: 2, max: 1 << 20) },
        "dataset.dataset_path": { c, v, k in c.datasetPath = try path(v, k) },
        "training.learning_rate": { c, v, k in c.learningRate = try double(v, k, positive: true) },
        "training.batch_size": { c, v, k in c.batchSize = try int(v, k, min: 1, max: 1 << 16) },
        "training.accumulation_steps": { c, v, k in c.accumulationSteps = try int(v, k, min: 1, max: 1 << 16) },
        "training.epochs": { c, v, k in c.epochs = try int(v, k, min: 1, max: 1 << 20) },
        "training.shuffle": { c, v, k in c.shuffle = try bool(v, k) },
        "training.weight_decay": { c, v, k in c.weightDecay = try double(v, k) },
        "training.grad_clip": { c, v, k in c.gradClip = try double(v, k, positive: true) },
        "training.warmup_ratio": { c, v, k in
            c.warmupRatio = try double(v, k)
            if c.warmupRatio > 1 { throw ConfigError("\(k): '\(v)' must be between 0 and 1") }
        },
        "training.max_steps": { c, v, k in c.maxSteps = v.isEmpty || v == "None" ? nil : try int(v, k, min: 1) },
        "training.seed": { c, v, k in
            guard let s = UInt64(v) else { throw ConfigError("\(k): '\(v)' is not a non-negative integer") }
            c.seed = s
        },
        "training.resume": { c, v, k in c.resume = try bool(v, k) },
        "logging.out_dir": { c, v, k in c.outDir = try path(v, k) },
        "logging.save_dir": { c, v, k in c.saveDir = try path(v, k) },
        "logging.save_interval": { c, v, k in c.saveInterval = try int(v, k, min: 0) },
    ]

    private static func path(_ v: String, _ k: String) throws -> String {
        guard !v.isEmpty else { throw ConfigError("\(k): empty path") }
        return v
    }

    /// Counts and sizes have a stated ceiling, so that nothing computed from them (steps of the
    /// schedule, batch buffers) can overflow or allocate what no machine has.
    private static func int(_ v: String, _ k: String, min: Int, max: Int = Int(Int32.max)) throws -> Int {
        guard let n = Int(v) else { throw ConfigError("\(k): '\(v)' is not an integer") }
        guard n >= min else { throw ConfigError("\(k): \(n) is below the minimum \(min)") }
        guard n <= max else { throw ConfigError("\(k): \(n) is above the maximum \(max)") }
        return n
    }

    private static func double(_ v: String, _ k: String, positive: Bool = false) throws -> Double {
        guard let x = Double(v), x.isFinite else { throw ConfigError("\(k): '\(v)' is not a number") }
        if positive ? x <= 0 : x < 0 { throw ConfigError("\(k): \(v) must be \(positive ? "positive" : "non-negative")") }
        return x
    }

    private static func bool(_ v: String, _ k: String) throws -> Bool {
        switch v.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigError("\(k): '\(v)' is not true or false")
        }
    }
}

public struct ConfigError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
