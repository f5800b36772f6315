import ArgumentParser
import Foundation
import Training

struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Train a Qwen3 model (from a config.json, or continuing a checkpoint) on a JSONL of {\"text\": ...} lines.",
        discussion: """
            Settings are dotted key=value arguments, a --config file (JSON or YAML),
            or both; the arguments override the file. For example:
              explicitlm pretrain model.config_path=config.json \\
                dataset.dataset_path=train.jsonl training.learning_rate=3e-4 \\
                training.batch_size=8 training.accumulation_steps=4 \\
                training.epochs=1 training.shuffle=false logging.out_dir=out
            Metrics: <out_dir>/metrics.jsonl;
            checkpoints: <save_dir>/checkpoint.safetensors.

            Keys:

            """ + PretrainConfig.helpText())

    @OptionGroup var settings: SettingsArguments
    @Option(name: .customLong("save-model"), help: "Also write the trained model here (config.json, model.safetensors, tokenizer files) as one directory; an existing model directory is replaced whole.")
    var saveModel: String?

    func validate() throws {
        _ = try settings.load { try PretrainConfig(arguments: $0, configFile: $1) }
    }

    func run() throws {
        let config = try settings.load { try PretrainConfig(arguments: $0, configFile: $1) }
        let tokenizer = try loadPretrainTokenizer(config)
        let interactive = isatty(STDERR_FILENO) == 1
        try PretrainRun.run(config, tokenizer: tokenizer, saveModel: saveModel.map { URL(fileURLWithPath: $0) }) { line in
            FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
        }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// tokenizer.json from model.tokenizer_path (a file or a directory), else the model's directory.
func pretrainTokenizerURL(_ config: PretrainConfig) -> URL {
    let url = config.tokenizerPath.map { URL(fileURLWithPath: $0) } ?? config.qwen3ModelPath.map { URL(fileURLWithPath: $0) }
        ?? URL(fileURLWithPath: config.configPath!).deletingLastPathComponent()
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
        return url.appendingPathComponent("tokenizer.json")
    }
    return url
}
