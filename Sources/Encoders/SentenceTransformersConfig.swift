import Foundation
import JSON

/// How a sentence-transformers model turns token states into a sentence vector.
public enum Pooling: String, Sendable, Codable {
    case mean, cls, max
}

/// What the sentence-transformers files of a model directory say: modules.json (Transformer →
/// Pooling → Normalize), 1_Pooling/config.json and sentence_bert_config.json. A directory without
/// them is a plain BertModel: mean pooling, no normalisation, the model's maximum length.
public struct SentenceTransformersConfig: Sendable, Equatable {
    public var pooling: Pooling = .mean
    public var normalize = false
    /// sentence_bert_config.json `max_seq_length`; nil when absent.
    public var maxSeqLength: Int?
    /// sentence_bert_config.json `do_lower_case`: lower-case the text before tokenising.
    public var doLowerCase = false
    /// tokenizer_config.json `model_max_length`, the limit sentence-transformers uses when
    /// sentence_bert_config.json sets none; nil when absent.
    public var tokenizerMaxLength: Int?

    public init(pooling: Pooling = .mean, normalize: Bool = false, maxSeqLength: Int? = nil, doLowerCase: Bool = false) {
        self.pooling = pooling
        self.normalize = normalize
        self.maxSeqLength = maxSeqLength
        self.doLowerCase = doLowerCase
    }

    public static func load(directory: URL) throws -> SentenceTransformersConfig {
        var config = SentenceTransformersConfig()
        let modulesURL = directory.appendingPathComponent("modules.json")
        if FileManager.default.fileExists(atPath: modulesURL.path) {
            let modules = try decodeJSONFile([SentenceTransformersModule].self, at: modulesURL)
            var sawPooling = false
            for (i, module) in modules.enumerated() {
                let type = module.type ?? "(none)"
                switch type.split(separator: ".").last.map(String.init) ?? type {
                case "Transformer":
                    if i != 0 { throw EncoderError("\(modulesURL.path): module \(i): the Transformer must come first") }
                case "Pooling":
                    let path = module.path ?? ""
                    // Module folders live in the model directory; a path elsewhere is refused, not followed.
                    guard !path.hasPrefix("/"), !path.split(separator: "/").contains(where: { $0 == ".." }) else {
                        throw EncoderError("\(modulesURL.path): module \(i) path '\(path)' is not a folder inside the model directory")
                    }
                    config.pooling = try loadPooling(directory.appendingPathComponent(path).appendingPathComponent("config.json"))
                    sawPooling = true
                case "Normalize":
                    config.normalize = true
                default:
                    throw EncoderError("\(modulesURL.path): module \(i) type '\(type)' is not supported (Transformer, Pooling, Normalize)")
                }
            }
            if !sawPooling { throw EncoderError("\(modulesURL.path): no Pooling module") }
        }
        let bertURL = directory.appendingPathComponent("sentence_bert_config.json")
        if FileManager.default.fileExists(atPath: bertURL.path) {
            let file = try decodeJSONFile(SentenceBertConfigFile.self, at: bertURL)
            config.maxSeqLength = file.maxSeqLength
            config.doLowerCase = file.doLowerCase
        }
        let tokenizerURL = directory.appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: tokenizerURL.path),
           let limit = try decodeJSONFile(TokenizerLengthLimitFile.self, at: tokenizerURL).modelMaxLength, limit >= 1, limit < 1e9 {
            config.tokenizerMaxLength = Int(limit)
        }
        return config
    }

    /// Exactly one of CLS, mean and max pooling; the other modes are refused.
    static func loadPooling(_ url: URL) throws -> Pooling {
        let modes = try decodeJSONFile(PoolingModesFile.self, at: url).modes
        guard Set(modes).count == 1 else {
            throw EncoderError("\(url.path): expected exactly one pooling mode, found \(modes.isEmpty ? "none" : modes.map(\.rawValue).joined(separator: ", "))")
        }
        return modes[0]
    }
}
