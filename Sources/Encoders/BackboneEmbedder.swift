import Compute
import Foundation
import Qwen3

/// The default embedder of method.md §3: the frozen Qwen3 backbone, mean over the text's tokens of
/// the final-norm hidden states, L2-normalised (K = D).
public final class BackboneEmbedder: SentenceEmbedder {
    public let model: Qwen3Model
    /// Text → Qwen3 token ids (the BPE tokenizer lives elsewhere).
    public let textEncoder: (String) -> [Int32]

    public var dimension: Int { model.config.hiddenSize }

    public init(model: Qwen3Model, textEncoder: @escaping (String) -> [Int32]) {
        self.model = model
        self.textEncoder = textEncoder
    }

    public func embed(_ texts: [String]) throws -> [[Float]] {
        try texts.enumerated().map { i, text in try embed(ids: textEncoder(text), index: i) }
    }

    /// The embedding of one token sequence.
    public func embed(ids: [Int32], index: Int = 0) throws -> [Float] {
        let D = model.config.hiddenSize
        guard !ids.isEmpty else { throw EncoderError("text \(index) has no tokens") }
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= model.config.vocabSize }) {
            throw EncoderError("text \(index): token id \(bad) is outside the vocabulary of \(model.config.vocabSize)")
        }
        let hidden = model.hiddenStates(ids, cache: KVCache(config: model.config, capacity: ids.count))
        RMSNorm.forward(hidden.data, hidden.data, weight: model.weights.norm.data, rows: ids.count, dim: D,
                        eps: Float(model.config.rmsNormEps))
        var v = pool(hidden, rows: 0..<ids.count, mode: .mean)
        l2Normalize(&v)
        return v
    }
}
