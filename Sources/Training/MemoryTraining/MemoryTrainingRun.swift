import Compute
import Encoders
import Foundation
import Memory
import Qwen3
import SafeTensors
import Tokenizers

/// `explicitlm train-router|train-fusion|train-memory|train-joint` as a library call: opens the
/// backbone and the bank, makes or loads the memory, reads the stage's data and trains.
public enum MemoryTrainingRun {
    /// What a run set up, for the command line to report and evaluate with.
    public struct Setup {
        public let backbone: Qwen3Model
        public let bank: MemoryBank
        public let memory: MemoryModel
        public let trainer: MemoryTrainer
        /// Skipped data lines (with `dataset.skip_invalid`), as file:line: reason.
        public let problems: [String]
    }

    public static func prepare(_ config: MemoryTrainingConfig) throws -> Setup {
        try config.validate()
        guard let modelPath = config.qwen3ModelPath, let cachePath = config.cachePath else {  // validate() said so
            throw ConfigError("model.qwen3_model_path and model.cache_path are required")
        }
        let modelDirectory = URL(fileURLWithPath: modelPath)
        let backbone = try Qwen3Model.load(directory: modelDirectory)
        let bank = try openBank(cachePath, config: config, modelDirectory: modelDirectory)
        let memory = try makeMemory(config, backbone: backbone, bank: bank)
        let tokenizer = try BPETokenizer(url: modelDirectory)
        let data = try MemoryTrainingData(tokenizer: tokenizer, systemMessage: config.systemMessage, maxSeqLen: config.maxSeqLen)

        // A labelled query is asked as generation asks a question: a user turn after the system message.
        let prompt = { (query: String) in
            try data.promptIds((config.systemMessage.map { [ChatMessage(role: .system, content: $0)] } ?? [])
                + [ChatMessage(role: .user, content: query)])
        }
        let stage: MemoryTrainingStage
        var problems: [String] = []
        var evaluate: ((MemoryModel) throws -> [String: Double])?
        switch config.stage {
        case .router:
            let train = try RouterExample.load(URL(fileURLWithPath: config.routerDatasetPath!), bank: bank, skipInvalid: config.skipInvalid)
            let validation = try config.routerValDatasetPath.map {
                try RouterExample.load(URL(fileURLWithPath: $0), bank: bank, skipInvalid: config.skipInvalid)
            }
            problems = train.problems + (validation?.problems ?? [])
            stage = try RouterStage(backbone: backbone, memory: memory, bank: bank, examples: train.examples,
                                    validation: Array((validation?.examples ?? []).prefix(config.evalNumSamples)),
                                    prompt: prompt, temperature: config.routerTemperature)
        case .fusion, .memory, .joint:
            let uuids = try bank.rowsByUUID()
            let train: [MemoryTrainingSample], validation: [MemoryTrainingSample]
            if config.stage == .joint {
                let eos = bank.padTokenId
                train = try data.texts(URL(fileURLWithPath: config.sftDatasetPath!), endOfText: eos)
                validation = try config.sftValDatasetPath.map { try data.texts(URL(fileURLWithPath: $0), endOfText: eos) } ?? []
            } else {
                let loaded = try data.conversations(URL(fileURLWithPath: config.sftDatasetPath!), rowsByUUID: uuids, skipInvalid: config.skipInvalid)
                let held = try config.sftValDatasetPath.map {
                    try data.conversations(URL(fileURLWithPath: $0), rowsByUUID: uuids, skipInvalid: config.skipInvalid)
                }
                train = loaded.samples
                validation = held?.samples ?? []
                problems = loaded.problems + (held?.problems ?? [])
            }
            try checkFits(train + validation, backbone: backbone)
            let swaps = config.stage != .joint && config.memory.counterfactualSwap > 0 && train.contains { $0.goldRow != nil }
            let swap = swaps ? CounterfactualSwap(rows: try bank.allRows().map(\.row), probability: config.memory.counterfactualSwap) : nil
            let retriever = memory.config.retriever == .dense ? nil : try MemoryRetriever(bank: bank, settings: memory.config)
            var replay: RouterStage?
            if config.stage == .memory, let path = config.routerDatasetPath {
                guard memory.config.retriever == .dense else {
                    throw ConfigError("dataset.router_dataset_path in the memory stage replays router data to train the dense retriever's MemoryGate; set model.retriever=dense")
                }
                let loaded = try RouterExample.load(URL(fileURLWithPath: path), bank: bank, skipInvalid: config.skipInvalid)
                problems += loaded.problems
                replay = try RouterStage(backbone: backbone, memory: memory, bank: bank, examples: loaded.examples, validation: [],
                                         prompt: prompt, temperature: config.routerTemperature, precompute: false)
            }
            if config.stage != .joint, let path = config.sftValDatasetPath {
                evaluate = try answerEvaluation(path, config: config, backbone: backbone, memory: memory, bank: bank,
                                                tokenizer: tokenizer, modelDirectory: modelDirectory, retriever: retriever)
            }
            stage = try LanguageModelStage(
                backbone: backbone, memory: memory, bank: bank, data: data, samples: train,
                validation: Array(validation.prefix(config.evalNumSamples)),
                retrieve: { samples in try samples.map { try retriever!.retrieve($0.query) } }, swap: swap, replay: replay, config: config)
        }
        let trainer = MemoryTrainer(config: config, memory: memory, stage: stage)
        trainer.evaluate = evaluate
        return Setup(backbone: backbone, bank: bank, memory: memory, trainer: trainer, problems: problems)
    }

    /// The evaluator's metrics on the first `eval_num_samples` validation conversations (method §9):
    /// greedy answers with memory on and off, recall@C and selection.
    static func answerEvaluation(
        _ path: String, config: MemoryTrainingConfig, backbone: Qwen3Model, memory: MemoryModel, bank: MemoryBank,
        tokenizer: BPETokenizer, modelDirectory: URL, retriever: MemoryRetriever?
    ) throws -> (MemoryModel) throws -> [String: Double] {
        let items = try EvaluationData.load(url: URL(fileURLWithPath: path), system: config.systemMessage, skipInvalid: config.skipInvalid).items
        let eos = try MemoryEvaluator.answerEnds(modelDirectory: modelDirectory, backbone: backbone, tokenizer: tokenizer)
        let evaluator = try MemoryEvaluator(memory: memory, bank: bank, tokenizer: tokenizer, eosTokenIds: eos, retriever: retriever,
                                            settings: .init(template: try tokenizer.chatTemplate(allowChatML: true)))
        return { _ in try evaluator.evaluate(items, limit: config.evalNumSamples).metrics }
    }

    /// `model.cache_path`: a bank directory, or the reference's knowledge_cache.pt (with
    /// `model.keys_path`), imported once into `<logging.out_dir>/bank` and reused from there.
    static func openBank(_ path: String, config: MemoryTrainingConfig, modelDirectory: URL) throws -> MemoryBank {
        let tokenizer = try BankTokenizer(url: modelDirectory)
        guard path.hasSuffix(".pt") else { return try MemoryBank.open(at: URL(fileURLWithPath: path), tokenizer: tokenizer) }
        let bankURL = URL(fileURLWithPath: config.outDir).appendingPathComponent("bank")
        if FileManager.default.fileExists(atPath: bankURL.path) { return try MemoryBank.open(at: bankURL, tokenizer: tokenizer) }
        try FileManager.default.createDirectory(atPath: config.outDir, withIntermediateDirectories: true)
        let embedderURL = URL(fileURLWithPath: config.memory.embedderPath ?? modelDirectory.path)
        let embedder = try makeEmbedder(path: embedderURL, textEncoder: { tokenizer.tokenizer.encode($0) })
        return try MemoryBuilder.importReference(
            cache: URL(fileURLWithPath: path), keys: config.keysPath.map { URL(fileURLWithPath: $0) }, at: bankURL, tokenizer: tokenizer,
            embedder: embedder, embedderName: embedderURL.path, config: config.memory, seed: config.seed).bank
    }

    /// The memory for this bank: the bank fixes N, L_k and K; fresh weights from `training.seed`,
    /// then the pretrained router's and fusion's tensors when given (so a router stage's gate and a
    /// memory stage's fusion make one dense memory).
    public static func makeMemory(_ config: MemoryTrainingConfig, backbone: Qwen3Model, bank: MemoryBank) throws -> MemoryModel {
        var settings = config.memory
        settings.knowledgeNum = bank.knowledgeNum
        settings.knowledgeLength = bank.knowledgeLength
        if settings.retriever != .lexical {
            guard bank.keys != nil else {
                throw ConfigError("model.retriever=\(settings.retriever.rawValue) needs a bank with keys; \(bank.url.path) has none")
            }
            settings.knowledgeDim = bank.knowledgeDim
        }
        let memory = try MemoryModel(config: settings, backbone: backbone)
        memory.initialize(seed: config.seed)
        if let path = config.pretrainedRouterPath {
            try loadPretrained(URL(fileURLWithPath: path), into: memory.gateParameters, key: "dataset.pretrained_router_path",
                               owns: { $0.contains(".gate.") })
        }
        if let path = config.pretrainedFusionPath {
            try loadPretrained(URL(fileURLWithPath: path), into: memory.layerParameters, key: "dataset.pretrained_fusion_path",
                               owns: { $0.hasPrefix("memory.layers.") && !$0.contains(".gate.") })
        }
        return memory
    }

    /// Strict: every tensor of `parameters` must be in the file with its shape, and every tensor of
    /// the file that `owns` claims must be one of them (the reference loaded mismatched names silently).
    static func loadPretrained(_ url: URL, into parameters: [MemoryParameter], key: String, owns: (String) -> Bool) throws {
        let file = try SafeTensorsFile(url: url)
        guard !parameters.isEmpty else { throw ConfigError("\(key): this configuration has no tensors to load from \(url.path)") }
        let names = Set(parameters.map(\.name))
        if let extra = file.names.sorted().first(where: { owns($0) && !names.contains($0) }) {
            throw ConfigError("\(key): \(url.path) has tensor \(extra), which this configuration does not have")
        }
        for p in parameters {
            guard let entry = file.entry(p.name) else { throw ConfigError("\(key): \(url.path) has no tensor \(p.name) (shape \(p.value.shape))") }
            guard entry.shape == p.value.shape, entry.dtype == .f32 else {
                throw ConfigError("\(key): \(url.path): tensor \(p.name) is \(entry.dtype.rawValue) \(entry.shape), expected F32 \(p.value.shape)")
            }
            let t = try file.tensor(p.name)
            p.value.data.update(from: t.data, count: t.count)
        }
    }

    /// Every sample's tokens must be the backbone's and fit its context.
    static func checkFits(_ samples: [MemoryTrainingSample], backbone: Qwen3Model) throws {
        let V = backbone.config.vocabSize
        for s in samples {
            if let bad = s.ids.first(where: { $0 < 0 || Int($0) >= V }) {
                throw ConfigError("line \(s.line): token id \(bad) is outside the backbone's vocabulary of \(V)")
            }
            try backbone.config.checkContext(s.ids.count, what: "line \(s.line)")
        }
    }
}
