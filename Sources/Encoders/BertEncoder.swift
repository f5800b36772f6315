import Compute
import Foundation
import SafeTensors
import Tokenizers

/// A BERT-family sentence encoder in Hugging Face / sentence-transformers layout: tokenizer.json
/// (WordPiece), config.json + model.safetensors (BertModel, with or without the `bert.` prefix),
/// and the sentence-transformers files that say how to pool and whether to normalise.
public final class BertEncoder: SentenceEmbedder {
    public let model: BertModel
    public let tokenizer: WordPieceTokenizer
    public let sentenceConfig: SentenceTransformersConfig
    /// Ids per text after truncation, [CLS] and [SEP] included.
    public let maxLength: Int
    /// Texts per forward pass; bounds the activation memory of large inputs.
    public var batchSize = 64

    public var dimension: Int { model.config.hiddenSize }

    public init(model: BertModel, tokenizer: WordPieceTokenizer, sentenceConfig: SentenceTransformersConfig) {
        self.model = model
        self.tokenizer = tokenizer
        self.sentenceConfig = sentenceConfig
        // sentence-transformers: max_seq_length, else min(max positions, the tokenizer's limit).
        let positions = model.config.maxPositionEmbeddings
        maxLength = min(sentenceConfig.maxSeqLength ?? sentenceConfig.tokenizerMaxLength ?? positions, positions)
    }

    public static func load(directory: URL) throws -> BertEncoder {
        let config = try BertConfig.load(from: directory.appendingPathComponent("config.json"))
        let weights = try BertWeights.load(config, from: try SafeTensorsCheckpoint(directory: directory))
        let tokenizer = try WordPieceTokenizer(url: directory.appendingPathComponent("tokenizer.json"))
        if tokenizer.vocabSize > config.vocabSize {
            throw EncoderError("\(directory.path): tokenizer.json has \(tokenizer.vocabSize) ids, config.json vocab_size is \(config.vocabSize)")
        }
        return BertEncoder(model: BertModel(config: config, weights: weights), tokenizer: tokenizer,
                           sentenceConfig: try SentenceTransformersConfig.load(directory: directory))
    }

    /// The ids the model sees for `text`.
    public func tokenize(_ text: String) -> [Int32] {
        tokenizer.encode(sentenceConfig.doLowerCase ? text.lowercased() : text, maxLength: maxLength)
    }

    /// Pooled sentence vectors, normalised when the model declares a Normalize module.
    public func encode(_ texts: [String]) throws -> [[Float]] {
        var result: [[Float]] = []
        result.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            let end = min(texts.count, start + max(1, batchSize))
            let (hidden, offsets) = try model.lastHiddenStates(texts[start..<end].map(tokenize))
            for b in 0..<(end - start) {
                var v = pool(hidden, rows: offsets[b]..<offsets[b + 1], mode: sentenceConfig.pooling)
                if sentenceConfig.normalize { l2Normalize(&v) }
                result.append(v)
            }
            start = end
        }
        return result
    }

    /// Always L2-normalised (the embedder contract), whatever the model declares.
    public func embed(_ texts: [String]) throws -> [[Float]] {
        var vectors = try encode(texts)
        if !sentenceConfig.normalize { for i in vectors.indices { l2Normalize(&vectors[i]) } }
        return vectors
    }
}
