import Compute
import Foundation
import Qwen3
import SafeTensors

/// The memory checkpoint of method.md §11: safetensors, float32, every trainable tensor under its §11
/// name, and `__metadata__` naming the settings (format `explicitlm-memory`, version 1).
extension MemoryModel {
    public static let checkpointFormat = "explicitlm-memory"
    public static let checkpointVersion = "1"

    /// The §11 `__metadata__`.
    public var checkpointMetadata: [String: String] {
        ["format": Self.checkpointFormat, "version": Self.checkpointVersion,
         "memory_layers": layers.map { String($0.layer) }.joined(separator: ","),
         "fusion": config.fusion.rawValue, "retriever": config.retriever.rawValue,
         "knowledge_length": String(config.knowledgeLength), "gumbel_temperature": String(config.gumbelTemperature),
         "num_candidates": String(config.numCandidates)]
    }

    /// Writes the checkpoint atomically.
    public func save(to url: URL) throws {
        var writer = SafeTensorsWriter()
        for p in parameters { writer.add(p.name, p.value) }
        try writer.write(to: url, metadata: checkpointMetadata)
    }

    /// Reads a §11 checkpoint for `backbone`, strictly: the settings from `__metadata__`, H and dh from
    /// `null_key`, the rank from `q_proj.a` (`gate_proj.a` for swiglu), F from `gate_proj`; under the
    /// dense retriever the MemoryGate's sharing, rank and K from its tensors; a missing,
    /// unexpected, misshapen or non-F32 tensor is named. `optimizer.` and `state.` tensors are ignored.
    /// `base` supplies the settings the file does not carry (knowledge_num, the embedder, …).
    public static func load(url: URL, backbone: Qwen3Model, base: MemoryConfig = MemoryConfig()) throws -> MemoryModel {
        let file = try SafeTensorsFile(url: url)
        let path = url.path
        func fail(_ message: String) -> MemoryError { MemoryError("memory checkpoint \(path): \(message)") }
        func meta(_ key: String) throws -> String {
            guard let v = file.metadata[key] else { throw fail("__metadata__ has no \"\(key)\"") }
            return v
        }
        let format = try meta("format"), version = try meta("version")
        guard format == checkpointFormat else { throw fail("format \"\(format)\" is not \"\(checkpointFormat)\"") }
        guard version == checkpointVersion else { throw fail("version \"\(version)\" is not \(checkpointVersion)") }
        func int(_ key: String) throws -> Int {
            guard let v = Int(try meta(key)) else { throw fail("\(key) \"\(try meta(key))\" is not an integer") }
            return v
        }
        var config = base
        guard let fusion = MemoryConfig.Fusion(rawValue: try meta("fusion")) else {
            throw fail("fusion \"\(try meta("fusion"))\" is not one of \(MemoryConfig.Fusion.allCases.map(\.rawValue))")
        }
        guard let retriever = MemoryConfig.Retriever(rawValue: try meta("retriever")) else {
            throw fail("retriever \"\(try meta("retriever"))\" is not one of \(MemoryConfig.Retriever.allCases.map(\.rawValue))")
        }
        config.fusion = fusion
        config.retriever = retriever
        config.knowledgeLength = try int("knowledge_length")
        config.numCandidates = try int("num_candidates")
        guard let tau = Double(try meta("gumbel_temperature")) else { throw fail("gumbel_temperature \"\(try meta("gumbel_temperature"))\" is not a number") }
        config.gumbelTemperature = tau
        let layerList = try meta("memory_layers").split(separator: ",", omittingEmptySubsequences: false)
        let memoryLayers = try layerList.map { s -> Int in
            guard let v = Int(s.trimmingCharacters(in: .whitespaces)) else { throw fail("memory_layers \"\(try meta("memory_layers"))\" is not a list of layers") }
            return v
        }
        config.memoryLayers = memoryLayers

        // The shapes that the settings leave open, from the first memory layer's tensors.
        guard let first = memoryLayers.first else { throw fail("memory_layers is empty") }
        let prefix = "memory.layers.\(first).fusion"
        func shape(_ name: String) throws -> [Int] {
            guard let e = file.entry(name) else { throw fail("missing tensor \(name)") }
            return e.shape
        }
        switch fusion {
        case .crossAttention:
            let nullKey = try shape("\(prefix).null_key")
            guard nullKey.count == 2, nullKey.allSatisfy({ $0 >= 1 }) else { throw fail("tensor \(prefix).null_key has shape \(nullKey), expected [H, dh]") }
            (config.fusionHeads, config.fusionHeadDim) = (nullKey[0], nullKey[1])
            config.fusionRank = file.entry("\(prefix).q_proj.a")?.shape.first ?? 0
        case .swiglu:
            config.fusionRank = file.entry("\(prefix).gate_proj.a")?.shape.first ?? 0
            let out = try shape(config.fusionRank > 0 ? "\(prefix).gate_proj.b" : "\(prefix).gate_proj.weight")
            guard let F = out.first else { throw fail("tensor \(prefix).gate_proj has no rows") }
            config.fusionIntermediate = F
        }
        if retriever == .dense {
            // Shared or per layer, K and the rank, from the gate's own tensors.
            config.shareGate = file.entry("memory.gate.logit_scale") != nil
            let gate = config.shareGate ? "memory.gate" : "memory.layers.\(first).gate"
            config.gateRank = file.entry("\(gate).in_proj.a")?.shape.first ?? 0
            let out = try shape(config.gateRank > 0 ? "\(gate).out_proj.b" : "\(gate).out_proj.weight")
            guard let K = out.first else { throw fail("tensor \(gate).out_proj has no rows") }
            config.knowledgeDim = K
        }
        let model: MemoryModel
        do { model = try MemoryModel(config: config, backbone: backbone) } catch { throw fail("\(error)") }

        var claimed = Set<String>()
        for p in model.parameters {
            guard let e = file.entry(p.name) else { throw fail("missing tensor \(p.name) (shape \(p.value.shape))") }
            guard e.shape == p.value.shape else { throw fail("tensor \(p.name) has shape \(e.shape), expected \(p.value.shape)") }
            guard e.dtype == .f32 else { throw fail("tensor \(p.name) is \(e.dtype.rawValue), expected F32") }
            let t = try file.tensor(p.name)
            p.value.data.update(from: t.data, count: t.count)
            claimed.insert(p.name)
        }
        let unexpected = file.names.filter { !claimed.contains($0) && !$0.hasPrefix("optimizer.") && !$0.hasPrefix("state.") }
        if let name = unexpected.first {
            throw fail("unexpected tensor \(name)" + (unexpected.count > 1 ? " (and \(unexpected.count - 1) more)" : "")
                       + " for fusion \(fusion.rawValue), retriever \(retriever.rawValue), memory layers \(memoryLayers)")
        }
        return model
    }
}
