import Compute
import Foundation
import JSON
import Qwen3

/// A freshly initialised Qwen3, as transformers' `_init_weights` does it: linear and embedding
/// weights ~ normal(0, initializer_range), biases zero, RMSNorm weights one. Seeded by the run's
/// seed through its own RNG stream (so data shuffling does not depend on whether a model was built).
public enum Qwen3Initializer {
    public static func model(config: Qwen3Config, initializerRange: Double, seed: UInt64) throws -> Qwen3Model {
        var rng = SeededGenerator(seed: seed ^ 0x5EED_1417_0000_0001)
        var tensors: [String: Tensor] = [:]
        for (name, shape) in Qwen3Weights.expectedShapes(config) {
            let t = Tensor(zeros: shape)
            if name.hasSuffix("norm.weight") {
                t.fill(1)
            } else if !name.hasSuffix(".bias") {
                for i in 0..<t.count { t.data[i] = Float(initializerRange * rng.normal()) }
            }
            tensors[name] = t
        }
        return Qwen3Model(config: config, weights: try Qwen3Weights.load(config, from: InMemoryTensors(tensors)))
    }

    /// `initializer_range` of a config.json (transformers' default 0.02 when absent).
    public static func initializerRange(configJSON url: URL) throws -> Double {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConfigError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        let object: JSONValue
        do { object = try JSONValue.parse([UInt8](data)) } catch let e as JSONParseError {
            throw ConfigError("\(url.path): not valid JSON: \(e)")
        }
        guard object.objectValue != nil else { throw ConfigError("\(url.path): not a JSON object") }
        guard let value = object["initializer_range"] else { return 0.02 }
        guard case .number(let text) = value, let range = Double(text), range > 0 else {
            throw ConfigError("\(url.path): initializer_range must be a positive number (found \(value.typeName))")
        }
        return range
    }
}
