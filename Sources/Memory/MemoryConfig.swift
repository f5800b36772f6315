import Qwen3

/// The memory's settings, named and defaulted as method.md §0 names them (`model.knowledge_num`, …).
/// Sizes that follow from the backbone (D) or the embedder (K) are resolved by `resolved(...)`.
public struct MemoryConfig: Sendable, Equatable {
    /// Where candidates come from (method §4).
    public enum Retriever: String, Sendable, CaseIterable {
        case lexical, encoder, dense, hybrid
    }

    /// How the selected entry is written into the hidden state (method §5).
    public enum Fusion: String, Sendable, CaseIterable {
        case crossAttention = "cross_attention", swiglu
    }

    /// N: bank capacity = number of grid cells, a perfect square.
    public var knowledgeNum = 1_048_576
    /// L_k: tokens per entry.
    public var knowledgeLength = 16
    /// K: key width (even); nil until resolved from the embedder.
    public var knowledgeDim: Int?
    /// C: candidates per sample handed to fine selection.
    public var numCandidates = 16
    /// τ: fine-selection temperature.
    public var gumbelTemperature = 0.1
    public var retriever = Retriever.lexical
    /// A BERT-family sentence encoder for keys and the encoder retriever; nil: the backbone.
    public var embedderPath: String?
    public var fusion = Fusion.crossAttention
    /// H_f and the head width of the cross-attention fusion.
    public var fusionHeads = 8
    public var fusionHeadDim = 64
    /// F of the swiglu fusion; nil: D.
    public var fusionIntermediate: Int?
    /// r_g, r_f: 0 = full rank, > 0 = rank-r factorised linears.
    public var gateRank = 128
    public var fusionRank = 128
    /// One MemoryGate for every memory layer instead of one per layer.
    public var shareGate = false
    /// Decoder layers followed by a memory step; nil: all layers.
    public var memoryLayers: [Int]?
    /// Probability of the counterfactual swap in memory training (method §6).
    public var counterfactualSwap = 1.0

    public init() {}

    /// n = √N, the rows and columns of the key grid.
    public var gridSide: Int { Int(Double(knowledgeNum).squareRoot().rounded()) }

    /// C_int: top-k per key half.
    public var halfTopK: Int { min(128, gridSide) }

    /// The memory layers for a backbone of `layers` decoder layers.
    public func layers(of backbone: Qwen3Config) -> [Int] { memoryLayers ?? Array(0..<backbone.numHiddenLayers) }

    /// Refuses settings the method cannot run with, naming the key, the value and what is allowed.
    public func validate(backbone: Qwen3Config) throws {
        try validate()
        if let bad = memoryLayers?.first(where: { $0 >= backbone.numHiddenLayers }) {
            throw MemoryConfigError("model.memory_layers: \(bad) is not a decoder layer of the backbone (0..<\(backbone.numHiddenLayers))")
        }
    }

    /// The checks that need no backbone, so that a training command can refuse its settings before
    /// loading any model.
    public func validate() throws {
        func fail(_ key: String, _ problem: String) -> MemoryConfigError { MemoryConfigError("\(key): \(problem)") }
        guard knowledgeNum >= 1, knowledgeNum <= 1 << 26 else { throw fail("model.knowledge_num", "\(knowledgeNum) must be in 1...\(1 << 26)") }
        guard gridSide * gridSide == knowledgeNum else {
            throw fail("model.knowledge_num", "\(knowledgeNum) is not a perfect square (the key grid is n × n)")
        }
        guard knowledgeLength >= 1, knowledgeLength <= 1024 else {
            throw fail("model.knowledge_length", "\(knowledgeLength) must be in 1...1024")
        }
        if let k = knowledgeDim, k < 2 || k % 2 != 0 || k > Qwen3Config.Limits.hiddenSize {
            throw fail("model.knowledge_dim", "\(k) must be even and in 2...\(Qwen3Config.Limits.hiddenSize)")
        }
        guard numCandidates >= 1, numCandidates <= 4096 else {
            throw fail("training.num_candidates", "\(numCandidates) must be in 1...4096")
        }
        guard gumbelTemperature > 0, gumbelTemperature.isFinite else {
            throw fail("model.gumbel_temperature", "\(gumbelTemperature) must be a positive number")
        }
        guard fusionHeads >= 1, fusionHeads <= 1024 else { throw fail("model.fusion_heads", "\(fusionHeads) must be in 1...1024") }
        guard fusionHeadDim >= 1, fusionHeadDim <= 4096 else { throw fail("model.fusion_head_dim", "\(fusionHeadDim) must be in 1...4096") }
        if let f = fusionIntermediate, f < 1 || f > Qwen3Config.Limits.intermediateSize {
            throw fail("model.fusion_intermediate", "\(f) must be in 1...\(Qwen3Config.Limits.intermediateSize)")
        }
        for (key, rank) in [("model.gate_rank", gateRank), ("model.fusion_rank", fusionRank)] where rank < 0 || rank > Qwen3Config.Limits.hiddenSize {
            throw fail(key, "\(rank) must be 0 (full rank) or a rank in 1...\(Qwen3Config.Limits.hiddenSize)")
        }
        if let layers = memoryLayers {
            guard !layers.isEmpty else { throw fail("model.memory_layers", "empty: name at least one decoder layer") }
            if let bad = layers.first(where: { $0 < 0 }) {
                throw fail("model.memory_layers", "\(bad) is not a decoder layer (they count from 0)")
            }
            guard Set(layers).count == layers.count, layers == layers.sorted() else {
                throw fail("model.memory_layers", "\(layers.map(String.init).joined(separator: ",")) must be increasing, each layer once")
            }
        }
        guard counterfactualSwap >= 0, counterfactualSwap <= 1 else {
            throw fail("training.counterfactual_swap", "\(counterfactualSwap) must be a probability in 0...1")
        }
    }
}

public struct MemoryConfigError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
