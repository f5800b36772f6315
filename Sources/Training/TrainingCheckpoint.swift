import Compute
import Foundation
import SafeTensors

/// Everything a run needs to continue exactly where it stopped, in one safetensors file:
/// tensors `param.<name>`, `exp_avg.<name>`, `exp_avg_sq.<name>` (AdamW moments), `data.order`
/// (the sample order of the current epoch, I64), and in `__metadata__` the step, the data position,
/// the RNG state and the configuration as JSON.
public struct TrainingCheckpoint {
    public static let format = "explicitlm-training-checkpoint-1"
    public static let fileName = "checkpoint.safetensors"

    /// Optimizer steps done.
    public var step: Int
    /// The epoch being read and the index of its next sample in `order`.
    public var epoch: Int
    public var index: Int
    public var order: [Int]
    public var rng: SeededGenerator
    public var parameters: [String: Tensor]
    public var expAvg: [String: Tensor]
    public var expAvgSq: [String: Tensor]
    /// The run's configuration, key → value.
    public var settings: [String: String]
    /// The model's config.json as JSON text (empty when not a Qwen3 model).
    public var modelConfig: String

    public init(step: Int, epoch: Int, index: Int, order: [Int], rng: SeededGenerator, parameters: [String: Tensor],
                expAvg: [String: Tensor], expAvgSq: [String: Tensor], settings: [String: String], modelConfig: String) {
        self.step = step; self.epoch = epoch; self.index = index; self.order = order; self.rng = rng
        self.parameters = parameters; self.expAvg = expAvg; self.expAvgSq = expAvgSq
        self.settings = settings; self.modelConfig = modelConfig
    }

    /// Writes atomically (temporary file, then rename): an interrupted save leaves the previous file.
    public func write(to url: URL) throws {
        var writer = SafeTensorsWriter()
        for (name, t) in parameters { writer.add("param." + name, t) }
        for (name, t) in expAvg { writer.add("exp_avg." + name, t) }
        for (name, t) in expAvgSq { writer.add("exp_avg_sq." + name, t) }
        writer.add("data.order", int64s: order.map(Int64.init), shape: [order.count])
        try writer.write(to: url, metadata: [
            "format": Self.format, "step": "\(step)", "epoch": "\(epoch)", "index": "\(index)",
            "rng": CheckpointMetadata.rng(rng), "config": CheckpointMetadata.settings(settings), "model_config": modelConfig,
        ])
    }

    /// Reads a checkpoint; every tensor is copied out of the file so it may be replaced later.
    public static func read(from url: URL) throws -> TrainingCheckpoint {
        let file = try SafeTensorsFile(url: url)
        let m = file.metadata
        func meta(_ key: String) throws -> String {
            guard let v = m[key] else { throw ConfigError("\(url.path): __metadata__ has no \"\(key)\"") }
            return v
        }
        func int(_ key: String) throws -> Int {
            guard let v = Int(try meta(key)), v >= 0 else { throw ConfigError("\(url.path): __metadata__ \"\(key)\" is not a count") }
            return v
        }
        guard try meta("format") == format else {
            throw ConfigError("\(url.path): __metadata__ format is '\(m["format"] ?? "")', expected '\(format)'")
        }
        let rng = try CheckpointMetadata.rng(try meta("rng"), path: url.path)
        let settings = try CheckpointMetadata.settings(try meta("config"), path: url.path)
        var parameters: [String: Tensor] = [:], expAvg: [String: Tensor] = [:], expAvgSq: [String: Tensor] = [:]
        for name in file.names where name != "data.order" {
            let copy = try file.tensor(name).copy()
            if name.hasPrefix("param.") { parameters[String(name.dropFirst(6))] = copy }
            else if name.hasPrefix("exp_avg_sq.") { expAvgSq[String(name.dropFirst(11))] = copy }
            else if name.hasPrefix("exp_avg.") { expAvg[String(name.dropFirst(8))] = copy }
            else { throw ConfigError("\(url.path): unexpected tensor \"\(name)\"") }
        }
        let order = try file.int64s("data.order").map { Int($0) }
        return TrainingCheckpoint(
            step: try int("step"), epoch: try int("epoch"), index: try int("index"), order: order,
            rng: rng, parameters: parameters, expAvg: expAvg, expAvgSq: expAvgSq,
            settings: settings, modelConfig: m["model_config"] ?? "")
    }
}
