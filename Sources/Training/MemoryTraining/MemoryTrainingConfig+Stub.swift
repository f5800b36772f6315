// TEMPORARY until the settings branch lands: replaced by the declared keys.
extension MemoryTrainingConfig {
    public var settings: [(key: String, value: String)] {
        [("training.learning_rate", "\(learningRate)"), ("training.batch_size", "\(batchSize)"), ("training.seed", "\(seed)"),
         ("training.epochs", "\(epochs)"), ("training.accumulation_steps", "\(accumulationSteps)")]
    }
    public static var resumeKeys: Set<String> { ["training.learning_rate", "training.batch_size", "training.seed", "training.epochs", "training.accumulation_steps"] }
}
extension MemoryTrainingConfig {
    public func validate() throws {
        if qwen3ModelPath == nil || cachePath == nil { throw ConfigError("model.qwen3_model_path and model.cache_path are required") }
        if stage == .router && routerDatasetPath == nil { throw ConfigError("dataset.router_dataset_path is required") }
        if stage != .router && sftDatasetPath == nil { throw ConfigError("dataset.sft_dataset_path is required") }
    }
}
