import Foundation
import JSON

/// The Qwen3 configuration as config.json writes it, with transformers' `Qwen3Config` defaults for
/// keys a checkpoint may omit. Features this implementation does not have are refused at load time.
public struct Qwen3Config: Codable, Sendable, Equatable {
    public var vocabSize: Int = 151_936
    public var hiddenSize: Int = 4096
    public var intermediateSize: Int = 22_016
    public var numHiddenLayers: Int = 32
    public var numAttentionHeads: Int = 32
    public var numKeyValueHeads: Int = 32
    /// Explicit in Qwen3: not hidden_size / num_attention_heads.
    public var headDim: Int = 128
    public var hiddenAct: String = "silu"
    public var maxPositionEmbeddings: Int = 32_768
    public var rmsNormEps: Double = 1e-6
    public var ropeTheta: Double = 10_000
    public var tieWordEmbeddings: Bool = false
    public var attentionBias: Bool = false
    public var useSlidingWindow: Bool = false
    public var slidingWindow: Int? = 4096
    public var maxWindowLayers: Int = 28
    public var bosTokenId: Int?
    public var eosTokenIds: [Int] = []
    public var padTokenId: Int?
    public var modelType: String = "qwen3"

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim", hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings", rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta", ropeScaling = "rope_scaling", ropeParameters = "rope_parameters"
        case tieWordEmbeddings = "tie_word_embeddings", attentionBias = "attention_bias"
        case useSlidingWindow = "use_sliding_window", slidingWindow = "sliding_window"
        case maxWindowLayers = "max_window_layers", bosTokenId = "bos_token_id"
        case eosTokenIds = "eos_token_id", padTokenId = "pad_token_id", modelType = "model_type"
        case architectures, layerTypes = "layer_types"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decode(.modelType, default: modelType)
        vocabSize = try c.decode(.vocabSize, default: vocabSize)
        hiddenSize = try c.decode(.hiddenSize, default: hiddenSize)
        intermediateSize = try c.decode(.intermediateSize, default: intermediateSize)
        numHiddenLayers = try c.decode(.numHiddenLayers, default: numHiddenLayers)
        numAttentionHeads = try c.decode(.numAttentionHeads, default: numAttentionHeads)
        numKeyValueHeads = try c.decode(.numKeyValueHeads, default: numAttentionHeads)
        headDim = try c.decode(.headDim, default: headDim)
        hiddenAct = try c.decode(.hiddenAct, default: hiddenAct)
        maxPositionEmbeddings = try c.decode(.maxPositionEmbeddings, default: maxPositionEmbeddings)
        rmsNormEps = try c.decode(.rmsNormEps, default: rmsNormEps)
        tieWordEmbeddings = try c.decode(.tieWordEmbeddings, default: tieWordEmbeddings)
        attentionBias = try c.decode(.attentionBias, default: attentionBias)
        useSlidingWindow = try c.decode(.useSlidingWindow, default: useSlidingWindow)
        slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow) ?? (c.contains(.slidingWindow) ? nil : 4096)
        maxWindowLayers = try c.decode(.maxWindowLayers, default: maxWindowLayers)
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId)
        eosTokenIds = try Self.decodeTokenIds(c, .eosTokenIds)

        // Rotary settings: transformers ≥ 5 writes `rope_parameters`, older files `rope_theta` and
        // `rope_scaling`. Only the default (unscaled) rotary embedding is implemented.
        ropeTheta = try c.decode(.ropeTheta, default: ropeTheta)
        for key in [CodingKeys.ropeScaling, .ropeParameters] where try c.contains(key) && !c.decodeNil(forKey: key) {
            let rope = try c.decode(RopeParameters.self, forKey: key)
            if let type = rope.ropeType ?? rope.type, type != "default" {
                throw Qwen3ConfigError("\(key.rawValue).rope_type '\(type)' is not supported (only the default rotary embedding is implemented)")
            }
            if let theta = rope.ropeTheta { ropeTheta = theta }
        }
        if let types = try c.decodeIfPresent([String].self, forKey: .layerTypes),
           let other = types.first(where: { $0 != "full_attention" }) {
            throw Qwen3ConfigError("layer_types contains '\(other)': only full attention is supported")
        }
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(["Qwen3ForCausalLM"], forKey: .architectures)
        try c.encode(modelType, forKey: .modelType)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode(hiddenAct, forKey: .hiddenAct)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(attentionBias, forKey: .attentionBias)
        try c.encode(useSlidingWindow, forKey: .useSlidingWindow)
        try c.encode(slidingWindow, forKey: .slidingWindow)
        try c.encode(maxWindowLayers, forKey: .maxWindowLayers)
        try c.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        try c.encodeIfPresent(padTokenId, forKey: .padTokenId)
        if eosTokenIds.count == 1 { try c.encode(eosTokenIds[0], forKey: .eosTokenIds) }
        else if !eosTokenIds.isEmpty { try c.encode(eosTokenIds, forKey: .eosTokenIds) }
    }

    /// Reads config.json; errors name the file and the key.
    public static func load(from url: URL) throws -> Qwen3Config {
        try decodeJSONFile(Qwen3Config.self, at: url)
    }

    /// Refuses what the forward pass does not implement, and shapes that cannot work.
    public func validate() throws {
        if modelType != "qwen3" { throw Qwen3ConfigError("model_type '\(modelType)' is not 'qwen3'") }
        if hiddenAct != "silu" { throw Qwen3ConfigError("hidden_act '\(hiddenAct)' is not supported (only 'silu')") }
        if useSlidingWindow {
            throw Qwen3ConfigError("use_sliding_window is true: sliding-window attention is not supported")
        }
        for (key, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                         ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
                         ("num_key_value_heads", numKeyValueHeads), ("head_dim", headDim)] where v <= 0 {
            throw Qwen3ConfigError("\(key) must be positive, got \(v)")
        }
        if numAttentionHeads % numKeyValueHeads != 0 {
            throw Qwen3ConfigError("num_attention_heads \(numAttentionHeads) is not a multiple of num_key_value_heads \(numKeyValueHeads)")
        }
        if headDim % 2 != 0 { throw Qwen3ConfigError("head_dim \(headDim) must be even for the rotary embedding") }
        // Every size product the model forms is bounded by its parameter count, so that must fit in Int.
        let parameters = parameters(Double.init)
        if parameters >= 0x1p62 {
            throw Qwen3ConfigError("the sizes (vocab_size \(vocabSize), hidden_size \(hiddenSize), intermediate_size \(intermediateSize), num_hidden_layers \(numHiddenLayers), num_attention_heads \(numAttentionHeads), num_key_value_heads \(numKeyValueHeads), head_dim \(headDim)) make \(parameters) parameters, too many to count")
        }
    }

    static func decodeTokenIds(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> [Int] {
        if try !c.contains(key) || c.decodeNil(forKey: key) { return [] }
        if let one = try? c.decode(Int.self, forKey: key) { return [one] }
        return try c.decode([Int].self, forKey: key)
    }

    /// Parameters of the model as transformers counts them (tied embeddings once).
    public var parameterCount: Int { parameters { $0 } }

    /// The parameter count in `N` (Double in `validate`, where Int arithmetic could overflow).
    private func parameters<N: Numeric>(_ n: (Int) -> N) -> N {
        let hiddenSize = n(hiddenSize), headDim = n(headDim), intermediateSize = n(intermediateSize)
        let numAttentionHeads = n(numAttentionHeads), numKeyValueHeads = n(numKeyValueHeads)
        let vocabSize = n(vocabSize), numHiddenLayers = n(numHiddenLayers)
        let q = numAttentionHeads * headDim, kv = numKeyValueHeads * headDim
        var attention = hiddenSize * q + 2 * hiddenSize * kv + q * hiddenSize + 2 * headDim
        if attentionBias { attention += q + 2 * kv + hiddenSize }
        let mlp = 3 * hiddenSize * intermediateSize
        let layer = attention + mlp + 2 * hiddenSize
        let embeddings = vocabSize * hiddenSize * (tieWordEmbeddings ? 1 : 2)
        return numHiddenLayers * layer + embeddings + hiddenSize
    }
}

/// The rotary part of config.json (`rope_scaling` or `rope_parameters`).
struct RopeParameters: Decodable {
    var ropeType: String?
    var type: String?
    var ropeTheta: Double?
    enum CodingKeys: String, CodingKey { case ropeType = "rope_type", type, ropeTheta = "rope_theta" }
}

public struct Qwen3ConfigError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
