import Foundation
import Memory
import TestSupport
import Training
import XCTest

/// The two training configurations' declarations: every key is listed once in `--help`, the saved
/// settings read back to the same configuration, each stage requires its inputs.
final class TrainingSettingsTests: XCTestCase {
    /// The keys of the brief (method §0 and the seed's), written out so that a missing declaration fails.
    static let memoryTrainingKeys: Set<String> = [
        "model.knowledge_num", "model.knowledge_length", "model.knowledge_dim", "model.gate_rank", "model.fusion_rank",
        "model.retriever", "model.fusion", "model.memory_layers", "model.embedder_path", "model.gumbel_temperature",
        "model.fusion_heads", "model.fusion_head_dim", "model.fusion_intermediate", "model.share_gate",
        "training.num_candidates", "training.counterfactual_swap",
        "model.qwen3_model_path", "model.cache_path", "model.keys_path", "model.max_seq_len",
        "dataset.sft_dataset_path", "dataset.sft_val_dataset_path", "dataset.router_dataset_path", "dataset.router_val_dataset_path",
        "dataset.pretrained_router_path", "dataset.pretrained_fusion_path", "dataset.system_message", "dataset.skip_invalid",
        "training.learning_rate", "training.batch_size", "training.accumulation_steps", "training.epochs", "training.max_steps",
        "training.shuffle", "training.seed", "training.weight_decay", "training.grad_clip", "training.warmup_ratio",
        "training.similarity_loss_coef", "training.diversity_loss_coef", "training.router_temperature",
        "training.eval_interval", "training.eval_num_samples", "training.resume",
        "logging.out_dir", "logging.save_dir", "logging.log_interval", "logging.save_interval", "logging.use_swanlab",
    ]
    static let pretrainKeys: Set<String> = [
        "model.qwen3_model_path", "model.config_path", "model.tokenizer_path", "model.max_seq_len", "dataset.dataset_path",
        "training.learning_rate", "training.batch_size", "training.accumulation_steps", "training.epochs", "training.shuffle",
        "training.weight_decay", "training.grad_clip", "training.warmup_ratio", "training.max_steps", "training.seed",
        "training.resume", "logging.out_dir", "logging.save_dir", "logging.save_interval",
    ]

    /// The keys at the start of the help's unindented lines, in order.
    func listedKeys(_ help: String) -> [String] {
        help.split(separator: "\n").filter { !$0.hasPrefix(" ") }.map { String($0.prefix { $0 != " " }) }
    }

    func testHelpListsEveryDeclaredKeyOnceWithTypeAndDefault() {
        for (help, declared, expected) in [
            (MemoryTrainingConfig.helpText(), MemoryTrainingConfig.settingsTable.keys.map(\.name), Self.memoryTrainingKeys),
            (PretrainConfig.helpText(), PretrainConfig.settingsTable.keys.map(\.name), Self.pretrainKeys),
        ] {
            let listed = listedKeys(help)
            XCTAssertEqual(listed, declared)
            XCTAssertEqual(listed.count, Set(listed).count, "a key is listed twice")
            XCTAssertEqual(Set(listed), expected)
        }
        let memoryHelp = MemoryTrainingConfig.helpText()
        for line in ["training.learning_rate (number > 0; default: 5e-05)", "model.gate_rank (integer, 0 or None = full rank; default: 128)",
                     "model.retriever (one of lexical|encoder|dense|hybrid; default: lexical)",
                     "model.memory_layers (list of integers, e.g. 0,1,2 or None; default: None)",
                     "training.counterfactual_swap (number; default: 1.0)", "logging.out_dir (path; default: out)"] {
            XCTAssertTrue(memoryHelp.contains(line + "\n    "), "missing '\(line)'")
        }
        XCTAssertTrue(PretrainConfig.helpText().contains("training.learning_rate (number > 0; default: 0.0003)\n    Peak learning rate"))
    }

    /// ArgumentParser wraps `--help` at 80 columns and drops a wrapped line's indentation, which
    /// would make a help line look like a key.
    func testHelpLinesFitEightyColumns() {
        for help in [MemoryTrainingConfig.helpText(), PretrainConfig.helpText()] {
            for line in help.split(separator: "\n") {
                XCTAssertLessThan(line.count, 80, "too long for --help: \(line)")
            }
        }
    }

    func testSavedSettingsReadBackToTheSameConfig() throws {
        var memory = MemoryTrainingConfig(stage: .joint)
        memory.qwen3ModelPath = "/models/qwen3"; memory.cachePath = "bank dir"; memory.sftDatasetPath = "text.jsonl"
        memory.systemMessage = "You answer, briefly: yes=no."; memory.maxSteps = 7; memory.seed = UInt64.max
        memory.learningRate = 3e-3; memory.warmupRatio = 0.05; memory.useSwanlab = true; memory.saveDir = "ck"
        memory.memory.memoryLayers = [1, 3]; memory.memory.gateRank = 0; memory.memory.fusion = .swiglu
        memory.memory.retriever = .dense; memory.memory.knowledgeDim = 64; memory.memory.counterfactualSwap = 0.25
        memory.memory.knowledgeNum = 4096; memory.memory.shareGate = true
        let saved = memory.settings
        XCTAssertEqual(saved.map(\.key), MemoryTrainingConfig.settingsTable.keys.map(\.name))
        XCTAssertEqual(try MemoryTrainingConfig.load(stage: .joint, arguments: saved.map { "\($0.key)=\($0.value)" }, configFile: nil).config, memory)

        var pretrain = PretrainConfig()
        pretrain.configPath = "c.json"; pretrain.datasetPath = "d.jsonl"; pretrain.maxSteps = 3; pretrain.learningRate = 1e-3
        pretrain.shuffle = false; pretrain.saveInterval = 0
        XCTAssertEqual(try PretrainConfig(arguments: pretrain.settings.map { "\($0.key)=\($0.value)" }), pretrain)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: pretrain.settings.map { ($0.key, $0.value) })["training.learning_rate"], "0.001")
    }

    func testEachStageRequiresItsInputsAndSwanlabOnlyWarns() throws {
        let base = ["model.qwen3_model_path=m", "model.cache_path=bank"]
        func failure(_ stage: MemoryTrainingConfig.Stage, _ arguments: [String]) -> String {
            thrownMessage { _ = try MemoryTrainingConfig.load(stage: stage, arguments: arguments, configFile: nil) }
        }
        XCTAssertTrue(failure(.router, ["model.cache_path=bank", "dataset.router_dataset_path=r.jsonl"]).contains("model.qwen3_model_path is required"))
        XCTAssertTrue(failure(.memory, ["model.qwen3_model_path=m", "dataset.sft_dataset_path=d"]).contains("model.cache_path is required"))
        XCTAssertTrue(failure(.router, base + ["dataset.sft_dataset_path=d"]).contains("dataset.router_dataset_path is required by the router stage"))
        for stage in [MemoryTrainingConfig.Stage.fusion, .memory, .joint] {
            XCTAssertTrue(failure(stage, base + ["dataset.router_dataset_path=r"]).contains("dataset.sft_dataset_path is required by the \(stage.rawValue) stage"))
            XCTAssertNoThrow(try MemoryTrainingConfig.load(stage: stage, arguments: base + ["dataset.sft_dataset_path=d"], configFile: nil))
        }
        let router = try MemoryTrainingConfig.load(stage: .router, arguments: base + ["dataset.router_dataset_path=r"], configFile: nil)
        XCTAssertEqual(router.config.stage, .router)
        XCTAssertEqual(router.warnings, [])
        let swanlab = try MemoryTrainingConfig.load(stage: .router, arguments: base + ["dataset.router_dataset_path=r", "logging.use_swanlab=True"],
                                                    configFile: nil)
        XCTAssertEqual(swanlab.warnings, ["logging.use_swanlab is ignored: there is no network"])
        XCTAssertTrue(swanlab.config.useSwanlab)
    }

    func testResumeKeysAreDeclaredKeys() {
        XCTAssertTrue(MemoryTrainingConfig.resumeKeys.isSubset(of: Self.memoryTrainingKeys), "\(MemoryTrainingConfig.resumeKeys.subtracting(Self.memoryTrainingKeys))")
        XCTAssertTrue(PretrainConfig.resumeKeys.isSubset(of: Self.pretrainKeys))
        XCTAssertTrue(MemoryTrainingConfig.resumeKeys.isSuperset(of: ["training.seed", "model.knowledge_num", "dataset.sft_dataset_path"]))
    }
}
