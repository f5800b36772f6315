import Compute
import Foundation
import Qwen3
import SafeTensors

/// Writes a model as a Hugging Face checkpoint directory: config.json and model.safetensors
/// (float32, `format: pt` metadata as transformers expects), both atomically.
public enum Qwen3Export {
    public static func save(_ model: Qwen3Model, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var writer = SafeTensorsWriter()
        for (name, t) in model.weights.named(model.config) { writer.add(name, t) }
        try writer.write(to: directory.appendingPathComponent("model.safetensors"), metadata: ["format": "pt"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let config = directory.appendingPathComponent("config.json")
        let tmp = URL(fileURLWithPath: config.path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)")
        try encoder.encode(model.config).write(to: tmp)
        guard rename(tmp.path, config.path) == 0 else {
            throw ConfigError("\(config.path): cannot rename \(tmp.lastPathComponent) into place")
        }
    }
}
