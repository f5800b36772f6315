import Foundation

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
            guard let modules = try readJSON(modulesURL) as? [[String: Any]] else {
                throw EncoderError("\(modulesURL.path): expected a list of modules")
            }
            var sawPooling = false
            for (i, module) in modules.enumerated() {
                let type = module["type"] as? String ?? "(none)"
                let path = module["path"] as? String ?? ""
                switch type.split(separator: ".").last.map(String.init) ?? type {
                case "Transformer":
                    if i != 0 { throw EncoderError("\(modulesURL.path): module \(i): the Transformer must come first") }
                case "Pooling":
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
            guard let object = try readJSON(bertURL) as? [String: Any] else { throw EncoderError("\(bertURL.path): expected an object") }
            if let value = object["max_seq_length"], !(value is NSNull) {
                guard let n = (value as? NSNumber)?.intValue, n > 0 else {
                    throw EncoderError("\(bertURL.path): key 'max_seq_length' is not a positive integer")
                }
                config.maxSeqLength = n
            }
            config.doLowerCase = object["do_lower_case"] as? Bool ?? false
        }
        let tokenizerURL = directory.appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: tokenizerURL.path),
           let object = try readJSON(tokenizerURL) as? [String: Any],
           let limit = (object["model_max_length"] as? NSNumber)?.doubleValue, limit >= 1, limit < 1e9 {
            config.tokenizerMaxLength = Int(limit)
        }
        return config
    }

    /// Exactly one of CLS, mean and max pooling; the other modes are refused.
    static func loadPooling(_ url: URL) throws -> Pooling {
        guard let object = try readJSON(url) as? [String: Any] else { throw EncoderError("\(url.path): expected an object") }
        var modes: [Pooling] = []
        for (key, value) in object where key.hasPrefix("pooling_mode") && (value as? Bool) == true {
            switch key {
            case "pooling_mode_mean_tokens": modes.append(.mean)
            case "pooling_mode_cls_token": modes.append(.cls)
            case "pooling_mode_max_tokens": modes.append(.max)
            default: throw EncoderError("\(url.path): '\(key)' is not supported (mean, CLS or max pooling)")
            }
        }
        if let mode = object["pooling_mode"] as? String {
            switch mode {
            case "mean": modes.append(.mean)
            case "cls": modes.append(.cls)
            case "max": modes.append(.max)
            default: throw EncoderError("\(url.path): pooling_mode '\(mode)' is not supported (mean, cls or max)")
            }
        }
        guard Set(modes).count == 1 else {
            throw EncoderError("\(url.path): expected exactly one pooling mode, found \(modes.isEmpty ? "none" : modes.map(\.rawValue).joined(separator: ", "))")
        }
        return modes[0]
    }

    static func readJSON(_ url: URL) throws -> Any {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EncoderError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        do { return try JSONSerialization.jsonObject(with: data) } catch {
            throw EncoderError("\(url.path): invalid JSON: \(error.localizedDescription)")
        }
    }
}
