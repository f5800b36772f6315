import Compute
import Foundation
import SafeTensors

/// A memory stage's checkpoint (`sft_<step>.safetensors`, `sft_latest.safetensors`): a method.md §11
/// memory checkpoint (every memory tensor under its §11 name and the §11 `__metadata__`, so
/// `logits`/`generate --checkpoint` and other tools read it as one), plus what resuming needs:
/// AdamW's moments as `optimizer.exp_avg.<name>` / `optimizer.exp_avg_sq.<name>`, the epoch's sample
/// order as `state.data_order`, and in `__metadata__` the step, epoch, data position, RNG state,
/// stage and configuration.
struct MemoryTrainingCheckpoint {
    static let stateFormat = "explicitlm-memory-training-1"

    var step: Int, epoch: Int, index: Int
    var order: [Int]
    var rng: SeededGenerator
    var parameters: [String: Tensor]
    var expAvg: [String: Tensor], expAvgSq: [String: Tensor]
    var settings: [String: String]

    /// Writes atomically; `metadata` is the memory model's §11 metadata.
    func write(to url: URL, metadata: [String: String]) throws {
        var writer = SafeTensorsWriter()
        for (name, t) in parameters.sorted(by: { $0.key < $1.key }) { writer.add(name, t) }
        for (name, t) in expAvg.sorted(by: { $0.key < $1.key }) { writer.add("optimizer.exp_avg." + name, t) }
        for (name, t) in expAvgSq.sorted(by: { $0.key < $1.key }) { writer.add("optimizer.exp_avg_sq." + name, t) }
        writer.add("state.data_order", int64s: order.map(Int64.init), shape: [order.count])
        try writer.write(to: url, metadata: metadata.merging([
            "state_format": Self.stateFormat, "step": "\(step)", "epoch": "\(epoch)", "index": "\(index)",
            "rng": CheckpointMetadata.rng(rng), "config": CheckpointMetadata.settings(settings),
        ]) { $1 })
    }

    /// Reads a checkpoint written by `write`; tensors are copied out of the file.
    static func read(from url: URL) throws -> MemoryTrainingCheckpoint {
        let file = try SafeTensorsFile(url: url)
        let path = url.path
        func meta(_ key: String) throws -> String {
            guard let v = file.metadata[key] else { throw ConfigError("\(path): __metadata__ has no \"\(key)\" (not a training checkpoint?)") }
            return v
        }
        func count(_ key: String) throws -> Int {
            guard let v = Int(try meta(key)), v >= 0 else { throw ConfigError("\(path): __metadata__ \"\(key)\" is not a count") }
            return v
        }
        guard try meta("state_format") == stateFormat else {
            throw ConfigError("\(path): __metadata__ state_format is '\(try meta("state_format"))', expected '\(stateFormat)'")
        }
        let rng = try CheckpointMetadata.rng(try meta("rng"), path: path)
        let settings = try CheckpointMetadata.settings(try meta("config"), path: path)
        var parameters: [String: Tensor] = [:], expAvg: [String: Tensor] = [:], expAvgSq: [String: Tensor] = [:]
        for name in file.names where name != "state.data_order" {
            let tensor = try file.tensor(name).copy()
            if name.hasPrefix("optimizer.exp_avg_sq.") { expAvgSq[String(name.dropFirst("optimizer.exp_avg_sq.".count))] = tensor }
            else if name.hasPrefix("optimizer.exp_avg.") { expAvg[String(name.dropFirst("optimizer.exp_avg.".count))] = tensor }
            else if name.hasPrefix("memory.") { parameters[name] = tensor }
            else { throw ConfigError("\(path): unexpected tensor \"\(name)\"") }
        }
        return MemoryTrainingCheckpoint(
            step: try count("step"), epoch: try count("epoch"), index: try count("index"),
            order: try file.int64s("state.data_order").map { Int($0) }, rng: rng,
            parameters: parameters, expAvg: expAvg, expAvgSq: expAvgSq, settings: settings)
    }
}
