import Compute
import FileIO
import Foundation
import Qwen3
import SafeTensors

/// Writes a model as a Hugging Face checkpoint directory: model.safetensors (float32, `format: pt`
/// metadata as transformers expects), config.json, and copies of the files that belong with the
/// weights (`companions`, name in the directory → source: tokenizer.json, generation_config.json).
/// The directory is built beside the target and published with one rename (`AtomicDirectory`): a
/// kill at any moment leaves the complete old model or the complete new one, never new weights with
/// an old config.
public enum Qwen3Export {
    public static func save(_ model: Qwen3Model, to directory: URL, copying companions: [String: URL] = [:]) throws {
        try FileManager.default.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
        FileTarget.removeLeftovers(of: directory)
        // Read first: they may live in the directory being replaced.
        let copies = try companions.sorted { $0.key < $1.key }.map { name, url in
            do { return (name, try Data(contentsOf: url)) } catch {
                throw ConfigError("\(url.path): cannot read it to copy into \(directory.path)")
            }
        }
        try AtomicDirectory.write(to: directory, replacing: refuseUnlessModel) { dir in
            var writer = SafeTensorsWriter()
            for (name, t) in model.weights.named(model.config) { writer.add(name, t) }
            try writer.write(to: dir.appendingPathComponent("model.safetensors"), metadata: ["format": "pt"])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(model.config), to: dir.appendingPathComponent("config.json"))
            for (name, data) in copies { try AtomicFile.write(data, to: dir.appendingPathComponent(name)) }
        }
    }

    /// Throws unless `directory` is absent or a model directory that `save` may replace (checked
    /// again by `save`; `pretrain` checks before it trains).
    public static func checkTarget(_ directory: URL) throws {
        try AtomicDirectory.checkReplaceable(directory, replacing: refuseUnlessModel)
    }

    /// Files of a Hugging Face model directory. An existing directory is replaced wholesale, so it
    /// must hold nothing else: `--save-model .` must not delete a corpus or a project.
    static let modelFiles: Set<String> = [
        "config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json",
        "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json",
        "added_tokens.json", "README.md", "LICENSE", ".gitattributes",
    ]

    static func refuseUnlessModel(_ directory: URL) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() {
            let shard = name.hasPrefix("model-") && name.hasSuffix(".safetensors")
            let type = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.type]
            guard modelFiles.contains(name) || shard, type as? FileAttributeType == .typeRegular else {
                throw ConfigError("\(directory.path): holds \(name), which is not a model file; refusing to replace the "
                    + "directory (choose a new one or remove it)")
            }
        }
    }
}
