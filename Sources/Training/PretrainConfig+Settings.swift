import Foundation

extension PretrainConfig: TrainingRunSettings {}

/// `explicitlm pretrain`'s keys: the shared training-run keys and its own model and dataset keys.
extension PretrainConfig {
    public static let settingsTable = SettingsTable<PretrainConfig>(SettingKey.trainingRunKeys + [
        SettingKey("model.qwen3_model_path", optional: \.qwen3ModelPath, .path,
                   "A Qwen3 model directory to continue training (exclusive with model.config_path)."),
        SettingKey("model.config_path", optional: \.configPath, .path, "A Qwen3 config.json to train a model from scratch."),
        SettingKey("model.tokenizer_path", optional: \.tokenizerPath, .path,
                   "tokenizer.json, or a directory holding one; None: the model's directory."),
        SettingKey("dataset.dataset_path", optional: \.datasetPath, .path, "The training data: a JSONL file of {\"text\": ...} lines."),
    ])

    /// Applies the settings file, if any, then `key=value` arguments (which override it) over the
    /// defaults, then checks the whole.
    public init(arguments: [String], configFile: URL? = nil) throws {
        self.init()
        try Self.settingsTable.apply(arguments: arguments, configFile: configFile, to: &self)
        try validate()
    }

    /// Sets one key from its text.
    public mutating func set(_ key: String, _ text: String) throws {
        try Self.settingsTable.set(key, .text(text), in: &self)
    }

    /// Every key with its value as text (unset: empty), in key order: the run's whole configuration.
    public var settings: [(key: String, value: String)] { Self.settingsTable.settings(of: self) }

    /// Every key with its type, default and help, for `--help`.
    public static func helpText() -> String { settingsTable.helpText(defaults: PretrainConfig()) }
}
