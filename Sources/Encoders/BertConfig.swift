import Foundation
import Qwen3
import JSON

/// The BERT configuration as config.json writes it, with transformers' `BertConfig` defaults for
/// keys a checkpoint may omit. Variants the forward pass does not implement are refused at load time.
public struct BertConfig: Codable, Sendable, Equatable {
    public var vocabSize: Int = 30_522
    public var hiddenSize: Int = 768
    public var numHiddenLayers: Int = 12
    public var numAttentionHeads: Int = 12
    public var intermediateSize: Int = 3072
    public var hiddenAct: String = "gelu"
    public var maxPositionEmbeddings: Int = 512
    public var typeVocabSize: Int = 2
    public var layerNormEps: Double = 1e-12
    public var positionEmbeddingType: String = "absolute"
    public var isDecoder: Bool = false
    public var modelType: String = "bert"

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case hiddenAct = "hidden_act", maxPositionEmbeddings = "max_position_embeddings"
        case typeVocabSize = "type_vocab_size", layerNormEps = "layer_norm_eps"
        case positionEmbeddingType = "position_embedding_type", isDecoder = "is_decoder", modelType = "model_type"
        case addCrossAttention = "add_cross_attention"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decode(.modelType, default: modelType)
        vocabSize = try c.decode(.vocabSize, default: vocabSize)
        hiddenSize = try c.decode(.hiddenSize, default: hiddenSize)
        numHiddenLayers = try c.decode(.numHiddenLayers, default: numHiddenLayers)
        numAttentionHeads = try c.decode(.numAttentionHeads, default: numAttentionHeads)
        intermediateSize = try c.decode(.intermediateSize, default: intermediateSize)
        hiddenAct = try c.decode(.hiddenAct, default: hiddenAct)
        maxPositionEmbeddings = try c.decode(.maxPositionEmbeddings, default: maxPositionEmbeddings)
        typeVocabSize = try c.decode(.typeVocabSize, default: typeVocabSize)
        layerNormEps = try c.decode(.layerNormEps, default: layerNormEps)
        positionEmbeddingType = try c.decode(.positionEmbeddingType, default: positionEmbeddingType)
        isDecoder = try c.decode(.isDecoder, default: isDecoder)
        if try c.decode(.addCrossAttention, default: false) { throw EncoderError("add_cross_attention is true: cross-attention is not supported") }
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(modelType, forKey: .modelType)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(hiddenAct, forKey: .hiddenAct)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(typeVocabSize, forKey: .typeVocabSize)
        try c.encode(layerNormEps, forKey: .layerNormEps)
        try c.encode(positionEmbeddingType, forKey: .positionEmbeddingType)
        try c.encode(isDecoder, forKey: .isDecoder)
    }

    public var headDim: Int { hiddenSize / numAttentionHeads }

    /// Reads config.json, naming the file in every error.
    public static func load(from url: URL) throws -> BertConfig {
        try decodeJSONFile(BertConfig.self, at: url)
    }

    /// Refuses what the forward pass does not implement, and shapes that cannot work.
    public func validate() throws {
        if modelType != "bert" { throw EncoderError("model_type '\(modelType)' is not supported (only 'bert')") }
        if hiddenAct != "gelu" { throw EncoderError("hidden_act '\(hiddenAct)' is not supported (only the exact 'gelu')") }
        if positionEmbeddingType != "absolute" {
            throw EncoderError("position_embedding_type '\(positionEmbeddingType)' is not supported (only 'absolute')")
        }
        if isDecoder { throw EncoderError("is_decoder is true: only bidirectional encoders are supported") }
        // The same ceilings as Qwen3's: every size computed from them fits an Int with room to spare.
        typealias Limits = Qwen3Config.Limits
        for (key, v, limit) in [("vocab_size", vocabSize, Limits.vocabSize), ("hidden_size", hiddenSize, Limits.hiddenSize),
                                ("num_hidden_layers", numHiddenLayers, Limits.numHiddenLayers),
                                ("num_attention_heads", numAttentionHeads, Limits.numHeads),
                                ("intermediate_size", intermediateSize, Limits.intermediateSize),
                                ("max_position_embeddings", maxPositionEmbeddings, Limits.maxPositionEmbeddings),
                                ("type_vocab_size", typeVocabSize, Limits.vocabSize)] where v < 1 || v > limit {
            throw EncoderError("\(key) is \(v): it must be in 1...\(limit)")
        }
        guard layerNormEps > 0, layerNormEps < 1 else { throw EncoderError("layer_norm_eps is \(layerNormEps): it must be in (0, 1)") }
        if hiddenSize % numAttentionHeads != 0 {
            throw EncoderError("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
        }
    }
}

public struct EncoderError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
