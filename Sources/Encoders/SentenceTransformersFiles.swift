// The files of a sentence-transformers model directory, as far as the encoder reads them.

/// One entry of modules.json.
struct SentenceTransformersModule: Decodable {
    var type: String?
    var path: String?

    enum CodingKeys: String, CodingKey { case type, path }
}

/// 1_Pooling/config.json: the `pooling_mode_*` flags that are true, and the `pooling_mode` string
/// newer versions write. An unknown flag set to true is refused, so the key set is open.
struct PoolingModesFile: Decodable {
    var modes: [Pooling] = []

    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        // Sorted, so that the error for several unsupported flags is always the same.
        for key in c.allKeys.sorted(by: { $0.stringValue < $1.stringValue })
        where key.stringValue != "pooling_mode" && key.stringValue.hasPrefix("pooling_mode") {
            guard try c.decodeIfPresent(Bool.self, forKey: key) == true else { continue }
            switch key.stringValue {
            case "pooling_mode_mean_tokens": modes.append(.mean)
            case "pooling_mode_cls_token": modes.append(.cls)
            case "pooling_mode_max_tokens": modes.append(.max)
            default: throw EncoderError("'\(key.stringValue)' is not supported (mean, CLS or max pooling)")
            }
        }
        if let mode = try c.decodeIfPresent(String.self, forKey: Key(stringValue: "pooling_mode")) {
            guard let pooling = Pooling(rawValue: mode) else {
                throw EncoderError("pooling_mode '\(mode)' is not supported (mean, cls or max)")
            }
            modes.append(pooling)
        }
    }
}

/// sentence_bert_config.json.
struct SentenceBertConfigFile: Decodable {
    var maxSeqLength: Int?
    var doLowerCase = false

    enum CodingKeys: String, CodingKey {
        case maxSeqLength = "max_seq_length", doLowerCase = "do_lower_case"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxSeqLength = try c.decodeIfPresent(Int.self, forKey: .maxSeqLength)
        if let n = maxSeqLength, n <= 0 { throw EncoderError("key 'max_seq_length' is not a positive integer") }
        doLowerCase = try c.decodeIfPresent(Bool.self, forKey: .doLowerCase) ?? doLowerCase
    }
}

/// tokenizer_config.json's `model_max_length`: a hint, not a contract, so a file of another shape or a
/// value that is not a number leaves it unset. transformers writes 1e30 for "no limit".
struct TokenizerLengthLimitFile: Decodable {
    var modelMaxLength: Double?

    enum CodingKeys: String, CodingKey { case modelMaxLength = "model_max_length" }

    init(from decoder: Decoder) throws {
        modelMaxLength = try? decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Double.self, forKey: .modelMaxLength)
    }
}
