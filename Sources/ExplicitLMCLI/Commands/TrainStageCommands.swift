import ArgumentParser
import Foundation
import Training

/// `train-router`, `train-fusion`, `train-memory`, `train-joint`: the stages of method.md §8, under
/// the seed's dotted keys (the same parsing, files and help for each).
enum TrainStage {
    static func discussion(_ stage: MemoryTrainingConfig.Stage) -> String {
        let what: String
        switch stage {
        case .router:
            what = "Trains the dense retriever's MemoryGate (model.retriever=dense) with the router loss on labelled queries "
                + "(dataset.router_dataset_path, from `explicitlm label`). Writes memory_gate_epoch_<e>.safetensors and "
                + "router_<step>.safetensors to logging.save_dir; dataset.pretrained_router_path loads one into a later stage."
        case .fusion, .memory:
            what = "Trains MemoryNorm, the fusion and the α gate (the backbone and the MemoryGate frozen) on conversations "
                + "(dataset.sft_dataset_path; fact_uuid names the gold row for the counterfactual swap)"
                + (stage == .memory ? ", the recommended stage." : ".")
                + " Writes sft_<step>.safetensors and sft_latest.safetensors to logging.save_dir."
        case .joint:
            what = "As train-memory, on plain text ({\"text\": ...} lines in dataset.sft_dataset_path): the first 64 tokens "
                + "of each text are its prompt. Writes sft_<step>.safetensors and sft_latest.safetensors."
        }
        return what + "\nMetrics: <logging.out_dir>/metrics.jsonl (explicitlm plot draws them). training.resume=true continues "
            + "from the latest checkpoint.\n\nSettings (key=value, or --config FILE; the command line wins):\n"
            + MemoryTrainingConfig.helpText()
    }

    /// Runs a prepared stage with its progress lines on standard error (redrawn in place on a terminal).
    static func train(_ setup: MemoryTrainingRun.Setup) throws {
        let stderr = FileHandle.standardError
        let interactive = isatty(STDERR_FILENO) == 1
        setup.trainer.progress = { line in stderr.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8)) }
        try setup.trainer.run()
        if interactive { stderr.write(Data("\n".utf8)) }
    }

    static func run(_ stage: MemoryTrainingConfig.Stage, _ arguments: SettingsArguments, _ compute: ComputeOptions) throws {
        try compute.apply()
        let (config, warnings) = try arguments.load { try MemoryTrainingConfig.load(stage: stage, arguments: $0, configFile: $1) }
        let stderr = FileHandle.standardError
        for warning in warnings { stderr.write(Data("warning: \(warning)\n".utf8)) }
        let setup = try MemoryTrainingRun.prepare(config)
        if !setup.problems.isEmpty {
            stderr.write(Data("skipped \(setup.problems.count) invalid line(s) (dataset.skip_invalid):\n".utf8))
            stderr.write(Data(setup.problems.prefix(20).map { "  \($0)\n" }.joined().utf8))
        }
        try train(setup)
        stderr.write(Data("wrote \(setup.trainer.latestCheckpointURL.path) and \(setup.trainer.metricsURL.path)\n".utf8))
    }
}

struct TrainRouterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-router", abstract: "Train the MemoryGate on labelled queries (the router stage).", discussion: TrainStage.discussion(.router))
    @OptionGroup var settings: SettingsArguments
    @OptionGroup var compute: ComputeOptions
    func run() throws { try TrainStage.run(.router, settings, compute) }
}

struct TrainFusionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-fusion", abstract: "Train the fusion with the retriever frozen (the fusion stage).", discussion: TrainStage.discussion(.fusion))
    @OptionGroup var settings: SettingsArguments
    @OptionGroup var compute: ComputeOptions
    func run() throws { try TrainStage.run(.fusion, settings, compute) }
}

struct TrainMemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-memory", abstract: "Memory SFT on conversations (the recommended stage).", discussion: TrainStage.discussion(.memory))
    @OptionGroup var settings: SettingsArguments
    @OptionGroup var compute: ComputeOptions
    func run() throws { try TrainStage.run(.memory, settings, compute) }
}

struct TrainJointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-joint", abstract: "Memory training on plain text (the joint stage).", discussion: TrainStage.discussion(.joint))
    @OptionGroup var settings: SettingsArguments
    @OptionGroup var compute: ComputeOptions
    func run() throws { try TrainStage.run(.joint, settings, compute) }
}
