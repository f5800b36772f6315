import Compute
import Foundation
import Qwen3

/// Text to token ids without special tokens, and the id appended to every sequence (and used as
/// padding): `<|endoftext|>` for Qwen3. `files` (tokenizer.json, tokenizer_config.json: name →
/// source) are copied into an exported model.
public struct PretrainTokenizer {
    public let tokenize: (String) throws -> [Int32]
    public let endOfText: Int32
    public let files: [String: URL]
    public init(endOfText: Int32, files: [String: URL] = [:], tokenize: @escaping (String) throws -> [Int32]) {
        self.tokenize = tokenize
        self.endOfText = endOfText
        self.files = files
    }
}

/// `explicitlm pretrain` as a library call: builds or loads the model, reads the corpus, trains,
/// and optionally exports the result as a Hugging Face checkpoint.
public enum PretrainRun {
    @discardableResult
    public static func run(
        _ config: PretrainConfig, tokenizer: PretrainTokenizer, saveModel: URL? = nil,
        progress: ((String) -> Void)? = nil
    ) throws -> (model: Qwen3Model, metrics: [StepMetrics]) {
        try config.validate()
        if let saveModel { try Qwen3Export.checkTarget(saveModel) }
        let model = try makeModel(config)
        let datasetURL = URL(fileURLWithPath: config.datasetPath!)
        let data = try PretrainData.load(jsonl: datasetURL, maxSeqLen: config.maxSeqLen,
                                         eosId: tokenizer.endOfText, tokenize: tokenizer.tokenize)
        let vocab = model.config.vocabSize, positions = model.config.maxPositionEmbeddings
        for (i, s) in data.sequences.enumerated() {
            if let bad = s.first(where: { $0 < 0 || Int($0) >= vocab }) {
                throw ConfigError("\(datasetURL.path): sample \(i + 1) has token id \(bad), outside the model's vocabulary of \(vocab)")
            }
            if s.count > positions {
                throw ConfigError("\(datasetURL.path): sample \(i + 1) has \(s.count) tokens after truncation to model.max_seq_len "
                    + "\(config.maxSeqLen), more than the model's max_position_embeddings \(positions): set model.max_seq_len to at most \(positions)")
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let modelConfig = String(decoding: try encoder.encode(model.config), as: UTF8.self)
        let trainer = Pretrainer(config: config, model: Qwen3FullTraining(model: model), data: data, modelConfig: modelConfig)
        trainer.progress = progress
        let metrics = try trainer.run()
        if let saveModel { try Qwen3Export.save(model, to: saveModel, copying: tokenizer.files.merging(generationConfig(config)) { $1 }) }
        return (model, metrics)
    }

    /// generation_config.json of the model continued, if it has one.
    static func generationConfig(_ config: PretrainConfig) -> [String: URL] {
        guard let path = config.qwen3ModelPath else { return [:] }
        let url = URL(fileURLWithPath: path).appendingPathComponent("generation_config.json")
        return FileManager.default.fileExists(atPath: url.path) ? ["generation_config.json": url] : [:]
    }

    /// model.qwen3_model_path: the checkpoint's weights; model.config_path: a fresh initialisation
    /// seeded by training.seed. (On resume the checkpoint's weights then replace either.)
    public static func makeModel(_ config: PretrainConfig) throws -> Qwen3Model {
        if let path = config.qwen3ModelPath {
            let directory = URL(fileURLWithPath: path)
            let configURL = directory.appendingPathComponent("config.json")
            try checkTrainingMemory(try Qwen3Config.load(from: configURL), configFile: configURL)
            return try Qwen3Model.load(directory: directory, keepBFloat16: false)
        }
        let url = URL(fileURLWithPath: config.configPath!)
        let qwen = try Qwen3Config.load(from: url)
        try checkTrainingMemory(qwen, configFile: url)
        return try Qwen3Initializer.model(config: qwen, initializerRange: try Qwen3Initializer.initializerRange(configJSON: url),
                                          seed: config.seed)
    }

    /// Refuses, before anything is allocated, a model whose training state cannot fit in memory:
    /// float32 weights, their gradients and AdamW's two moments are four copies of the parameters.
    static func checkTrainingMemory(_ qwen: Qwen3Config, configFile: URL) throws {
        let needed = Double(qwen.parameterCount) * 16
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        guard needed <= available else {
            let gib = { (bytes: Double) in String(format: "%.1f GiB", bytes / 1_073_741_824) }
            throw ConfigError("\(configFile.path): training this model (\(qwen.parameterCount) parameters) needs \(gib(needed)) "
                + "for weights, gradients and AdamW moments; this machine has \(gib(available))")
        }
    }
}
