import Compute
import Foundation
import SafeTensors

/// A Hugging Face checkpoint directory (one safetensors file or shards) is a source of named tensors.
extension SafeTensorsCheckpoint: TensorSource {
    public func shape(of name: String) -> [Int]? { entry(name)?.shape }
    public var sourceDescription: String { directory.path }
}

extension Qwen3Model {
    /// Loads config.json and the weights of a Qwen3 checkpoint directory, strictly. A BF16
    /// checkpoint's matrices stay BF16, mapped from the file, unless `keepBFloat16` is false (training
    /// that changes the backbone needs float32).
    public static func load(directory: URL, keepBFloat16: Bool = true) throws -> Qwen3Model {
        let config = try Qwen3Config.load(from: directory.appendingPathComponent("config.json"))
        let checkpoint = try SafeTensorsCheckpoint(directory: directory)
        return Qwen3Model(config: config, weights: try Qwen3Weights.load(config, from: checkpoint, keepBFloat16: keepBFloat16))
    }

    /// The end-of-sequence ids of generation_config.json and config.json together.
    public static func eosTokenIds(directory: URL, config: Qwen3Config) throws -> Set<Int32> {
        let generation = try GenerationConfig.load(directory: directory)
        return Set((generation.eosTokenIds + config.eosTokenIds).map(Int32.init))
    }
}
