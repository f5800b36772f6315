import Compute
import Foundation
import Memory
import Qwen3
import Training

/// The memory step's cost next to a decoder layer's, on the Qwen3-0.6B shape (hidden 1024, 16 heads,
/// 8 kv heads, head_dim 128, intermediate 3072), per token: a prefill of --tokens tokens and one
/// decode step after it. The memory step has the method's defaults (cross_attention, 8 heads of 64,
/// rank 128, L_k 16, C 16 candidates, argmax); the vocabulary is cut to 4096 because only 16 rows of
/// the embedding table are read. Best of --repeats. No reference: a ratio between our own two parts.
func benchMemoryStep(_ options: [String: String]) throws {
    let T = Int(options["tokens"] ?? "256")!, repeats = Int(options["repeats"] ?? "5")!
    var c = Qwen3Config()
    c.vocabSize = 4096; c.hiddenSize = 1024; c.intermediateSize = 3072; c.numHiddenLayers = 1
    c.numAttentionHeads = 16; c.numKeyValueHeads = 8; c.headDim = 128; c.tieWordEmbeddings = true
    let backbone = try Qwen3Initializer.model(config: c, initializerRange: 0.02, seed: 1)
    var config = MemoryConfig()
    config.memoryLayers = [0]
    let memory = try MemoryModel(config: config, backbone: backbone)
    memory.initialize(seed: 2)
    var rng = SeededGenerator(seed: 3)
    let candidates = (0..<config.numCandidates).map { j in
        MemoryCandidate(row: j, tokens: (0..<config.knowledgeLength).map { _ in Int32(rng.next() % 4096) }, length: config.knowledgeLength,
                        score: Float(rng.unit()))
    }
    let ids = (0..<(T + 1)).map { _ in Int32(rng.next() % 4096) }
    let D = c.hiddenSize, step = memory.steps[0]

    func best(_ body: () -> Void) -> Double { (0..<repeats).map { _ in seconds(body) }.min()! }
    // A decoder layer: the one-layer backbone's hidden states (the embedding lookup is negligible).
    let layerPrefill = best { _ = backbone.hiddenStates(Array(ids[..<T]), cache: KVCache(config: c, capacity: T + 1)) }
    let cache = KVCache(config: c, capacity: T + 1)
    _ = backbone.hiddenStates(Array(ids[..<T]), cache: cache)
    let layerDecode = best {
        cache.truncate(to: T)
        _ = backbone.hiddenStates([ids[T]], cache: cache)
    }
    let hidden = Tensor(shape: [T, D], values: (0..<(T * D)).map { _ in Float(rng.normal()) })
    let memoryPrefill = best {
        let context = MemoryBatchContext(samples: [MemorySample(candidates: candidates, promptLength: T)], selection: .argmax)
        step.forward(hidden.copy(), rows: 1, length: T, offset: 0, context: context, saveForBackward: false)
    }
    let one = Tensor(shape: [1, D], values: Array(hidden.array[..<D]))
    let memoryDecode = best {
        let context = MemoryBatchContext(samples: [MemorySample(candidates: candidates, promptLength: T)], selection: .argmax)
        step.forward(one.copy(), rows: 1, length: 1, offset: T, context: context, saveForBackward: false)
    }
    // Later decode steps of one generation: one context, its candidates' entries already prepared.
    let generation = MemoryBatchContext(samples: [MemorySample(candidates: candidates, promptLength: T)], selection: .argmax)
    step.forward(one.copy(), rows: 1, length: 1, offset: T, context: generation, saveForBackward: false)
    let memoryDecodeLater = best { step.forward(one.copy(), rows: 1, length: 1, offset: T, context: generation, saveForBackward: false) }
    printJSON(["impl": "explicitlm", "task": "memory-step", "tokens": T,
               "decode_later_memory_us": memoryDecodeLater * 1e6, "decode_later_memory_over_layer": memoryDecodeLater / layerDecode,
               "prefill_layer_us_per_token": layerPrefill / Double(T) * 1e6, "prefill_memory_us_per_token": memoryPrefill / Double(T) * 1e6,
               "prefill_memory_over_layer": memoryPrefill / layerPrefill,
               "decode_layer_us": layerDecode * 1e6, "decode_memory_us": memoryDecode * 1e6, "decode_memory_over_layer": memoryDecode / layerDecode])
}
