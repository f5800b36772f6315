import Foundation
import Memory

/// Reading, checking and saving the memory training stages' settings (declared in
/// MemoryTrainingConfig+Settings.swift).
extension MemoryTrainingConfig {
    /// The settings file, if any, then `key=value` arguments (which override it) over the defaults,
    /// checked for `stage`. Warnings are for settings that are accepted but have no effect.
    public static func load(stage: Stage, arguments: [String], configFile: URL?) throws -> (config: MemoryTrainingConfig, warnings: [String]) {
        var config = MemoryTrainingConfig(stage: stage)
        try settingsTable.apply(arguments: arguments, configFile: configFile, to: &config)
        try config.validate()
        return (config, config.useSwanlab ? ["logging.use_swanlab is ignored: there is no network"] : [])
    }

    /// Refuses settings the stage cannot run with: the required paths, and the memory's limits
    /// (method §0) that need no backbone; the backbone's own limits are checked when it is loaded.
    public func validate() throws {
        guard qwen3ModelPath != nil else { throw ConfigError("model.qwen3_model_path is required (the frozen Qwen3 backbone directory)") }
        guard cachePath != nil else {
            throw ConfigError("model.cache_path is required (the memory bank directory, or the reference's knowledge_cache.pt)")
        }
        switch stage {
        case .router:
            guard routerDatasetPath != nil else {
                throw ConfigError("dataset.router_dataset_path is required by the router stage (labelled router data, method §7)")
            }
        case .fusion, .memory, .joint:
            guard sftDatasetPath != nil else {
                throw ConfigError("dataset.sft_dataset_path is required by the \(stage.rawValue) stage (\(stage == .joint ? "{\"text\"} lines" : "conversations"))")
            }
        }
        do { try memory.validate() } catch let error as MemoryConfigError { throw ConfigError(error.message) }
    }

    /// Sets one key from its text.
    public mutating func set(_ key: String, _ text: String) throws {
        try Self.settingsTable.set(key, .text(text), in: &self)
    }

    /// Every key with its value as text (unset: empty), in key order: the run's whole configuration.
    public var settings: [(key: String, value: String)] { Self.settingsTable.settings(of: self) }

    /// Keys that must agree between a checkpoint and the run resuming it: they fix the data and its
    /// order, the schedule and objective, and the model (backbone, bank and memory shape), so a
    /// change would silently break "resumed equals uninterrupted".
    public static let resumeKeys: Set<String> = [
        "model.qwen3_model_path", "model.cache_path", "model.keys_path", "model.max_seq_len",
        "model.knowledge_num", "model.knowledge_length", "model.knowledge_dim", "model.gate_rank", "model.fusion_rank",
        "model.retriever", "model.fusion", "model.memory_layers", "model.embedder_path", "model.gumbel_temperature",
        "model.fusion_heads", "model.fusion_head_dim", "model.fusion_intermediate", "model.share_gate",
        "dataset.sft_dataset_path", "dataset.router_dataset_path", "dataset.system_message", "dataset.skip_invalid",
        "training.learning_rate", "training.batch_size", "training.accumulation_steps", "training.epochs",
        "training.shuffle", "training.seed", "training.weight_decay", "training.grad_clip", "training.warmup_ratio",
        "training.similarity_loss_coef", "training.diversity_loss_coef", "training.router_temperature",
        "training.num_candidates", "training.counterfactual_swap",
    ]

    /// Every key with its type, default and help, for the stage commands' `--help`.
    public static func helpText() -> String { settingsTable.helpText(defaults: MemoryTrainingConfig(stage: .memory)) }
}
