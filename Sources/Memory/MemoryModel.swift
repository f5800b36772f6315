import Compute
import Foundation
import Qwen3

/// The memory modules of every memory layer of a backbone, and the two seams that run them: the
/// inference hook (`layerHook`) and, through the Training module, the frozen-mode backprop modules.
public final class MemoryModel {
    public let config: MemoryConfig
    public let backbone: Qwen3Model
    /// One per memory layer, in increasing layer order.
    public let layers: [MemoryLayer]
    public let steps: [MemoryStep]
    /// The dense retriever's MemoryGates (method §4): one per memory layer, or one shared
    /// (`model.share_gate`); none under the other retrievers.
    public let gates: [MemoryGate]

    /// Zero-filled modules shaped by `config` (MemoryNorm g = 1); `initialize` or a checkpoint fills them.
    public init(config: MemoryConfig, backbone: Qwen3Model) throws {
        try config.validate(backbone: backbone.config)
        guard backbone.config.hiddenSize >= 4 else {
            throw MemoryError("the α gate needs a hidden size of at least 4 (D/4 units), the backbone has \(backbone.config.hiddenSize)")
        }
        self.config = config
        self.backbone = backbone
        let layers = config.layers(of: backbone.config).map { MemoryLayer(layer: $0, config: config, backbone: backbone.config) }
        self.layers = layers
        steps = layers.enumerated().map {
            MemoryStep(module: $1, index: $0, config: config, embedding: backbone.weights.embedTokens)
        }
        if config.retriever == .dense {
            guard let K = config.knowledgeDim else {
                throw MemoryError("model.knowledge_dim is not set: the dense retriever's MemoryGate projects to the key width K of the bank")
            }
            let D = backbone.config.hiddenSize
            gates = (0..<(config.shareGate ? 1 : layers.count)).map { _ in MemoryGate(hidden: D, keyDim: K, rank: config.gateRank) }
        } else {
            gates = []
        }
    }

    /// The MemoryGate of the memory layer at `index` (in `layers`), under the dense retriever.
    public func gate(forLayerAt index: Int) -> MemoryGate? {
        gates.isEmpty ? nil : gates[config.shareGate ? 0 : index]
    }

    /// Where a gate's tensors live in the checkpoint: `memory.gate` when shared, else per layer.
    func gatePrefix(_ i: Int) -> String { config.shareGate ? "memory.gate" : "\(layers[i].prefix).gate" }

    /// Fresh weights for training from scratch: o_proj/down zero, so the logits are the backbone's.
    public func initialize(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for layer in layers { layer.initialize(&generator) }
        for gate in gates { gate.initialize(&generator) }
    }

    /// Every trainable tensor, named as method.md §11 names it.
    public var parameters: [MemoryParameter] { layerParameters + gateParameters }

    /// MemoryNorm, fusion and α gate of every memory layer (what the LM loss trains).
    public var layerParameters: [MemoryParameter] { layers.flatMap(\.parameters) }

    /// The MemoryGates' tensors (what the router loss trains); none under the text retrievers.
    public var gateParameters: [MemoryParameter] { gates.indices.flatMap { gates[$0].parameters(gatePrefix($0)) } }

    /// The dense retriever over `bank` with this model's gates, for `count` candidates (default C);
    /// nil under the other retrievers.
    public func denseRetriever(bank: MemoryBank, count: Int? = nil) throws -> DenseRetriever? {
        guard config.retriever == .dense else { return nil }
        guard let grid = try bank.keyGrid() else {
            throw MemoryError("\(bank.url.path): the bank has no keys, so the dense retriever cannot search it")
        }
        return try DenseRetriever(grid: grid, gates: gates, count: count ?? config.numCandidates, entry: bank.candidate)
    }

    public func zeroGradients() { for p in parameters { p.grad.fill(0) } }

    /// The step after decoder layer `layer`, if it is a memory layer.
    public func step(after layer: Int) -> MemoryStep? { steps.first { $0.module.layer == layer } }

    /// Refuses a context the steps cannot run: a sample count other than `batch`, a candidate with no
    /// tokens, more than L_k tokens or a token outside the vocabulary.
    public func check(_ context: MemoryBatchContext, batch: Int) throws {
        guard context.samples.count == batch else {
            throw MemoryError("memory context has \(context.samples.count) samples for a batch of \(batch) sequences")
        }
        let V = backbone.config.vocabSize
        for (b, sample) in context.samples.enumerated() {
            guard sample.promptLength >= 0 else { throw MemoryError("sample \(b): prompt length \(sample.promptLength) is negative") }
            for c in sample.candidates {
                guard !c.tokens.isEmpty, c.tokens.count <= config.knowledgeLength else {
                    throw MemoryError("sample \(b): candidate row \(c.row) has \(c.tokens.count) tokens; a candidate needs 1...\(config.knowledgeLength) (knowledge_length)")
                }
                if let bad = c.tokens.first(where: { $0 < 0 || Int($0) >= V }) {
                    throw MemoryError("sample \(b): candidate row \(c.row) holds token \(bad), outside the vocabulary of \(V)")
                }
                guard c.score.isFinite else { throw MemoryError("sample \(b): candidate row \(c.row) has score \(c.score)") }
            }
        }
    }

    /// The inference seam: a hook for `Qwen3Model.forward(_:cache:afterLayer:)` that runs the memory
    /// step after each memory layer on one sequence, chunk by chunk (the chunk's positions give the
    /// offset, so q̄ and the selections add up over a chunked prefill and cached decoding).
    public func layerHook(_ context: MemoryBatchContext) throws -> Qwen3Model.LayerHook {
        try check(context, batch: 1)
        let byLayer = Dictionary(uniqueKeysWithValues: steps.map { ($0.module.layer, $0) })
        return { layer, hidden, positions in
            byLayer[layer]?.forward(hidden, rows: 1, length: positions.count, offset: positions.lowerBound,
                                    context: context, saveForBackward: false)
        }
    }
}

public struct MemoryError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
