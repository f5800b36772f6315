import ArgumentParser
import Foundation
import Qwen3
import SafeTensors

struct InspectModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect-model",
        abstract: "Print a checkpoint's configuration, parameter count, weight dtype and memory needs.")

    @OptionGroup var model: ModelOptions

    func run() throws {
        let configURL = model.directory.appendingPathComponent("config.json")
        let config = try Qwen3Config.load(from: configURL)
        let checkpoint = try SafeTensorsCheckpoint(directory: model.directory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print("configuration (\(configURL.path)):")
        print(String(decoding: try encoder.encode(config), as: UTF8.self))
        let parameters = config.parameterCount
        let kvPerToken = 2 * config.numHiddenLayers * config.numKeyValueHeads * config.headDim * 4
        print("parameters: \(parameters) (\(formatCount(parameters)))")
        print("weight dtype: \(checkpoint.dtypes.map(\.rawValue).sorted().joined(separator: ", "))")
        // BF16 matrices stay BF16 when loaded for inference (the norms, a few thousand values, are widened).
        let loaded = checkpoint.dtypes == [.bf16] ? parameters * 2 : parameters * 4
        print("memory: \(formatBytes(loaded)) of weights as loaded for inference (\(formatBytes(parameters * 4)) in float32 for training), "
            + "\(formatBytes(kvPerToken)) of KV cache per token "
            + "(\(formatBytes(kvPerToken * 4096)) for 4096 tokens)")
    }
}

func formatCount(_ n: Int) -> String {
    n >= 1_000_000_000 ? String(format: "%.2fB", Double(n) / 1e9)
        : n >= 1_000_000 ? String(format: "%.1fM", Double(n) / 1e6)
        : n >= 1000 ? String(format: "%.1fK", Double(n) / 1e3) : "\(n)"
}

func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(n), unit = 0
    while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
}
