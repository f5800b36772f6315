import Foundation
import Tokenizers
import Training

/// The Qwen3 tokenizer for `pretrain`: ids without special tokens, and `<|endoftext|>` (else the
/// tokenizer's pad, else its eos) as the id that ends and pads every sequence.
func loadPretrainTokenizer(_ config: PretrainConfig) throws -> PretrainTokenizer {
    let url = pretrainTokenizerURL(config)
    let tokenizer = try BPETokenizer(url: url)
    guard let endOfText = tokenizer.id(of: "<|endoftext|>") ?? tokenizer.padTokenId ?? tokenizer.eosTokenId else {
        throw ConfigError("\(url.path): the tokenizer has no <|endoftext|>, pad or eos token to end sequences with")
    }
    var files = ["tokenizer.json": url]
    let settings = url.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
    if FileManager.default.fileExists(atPath: settings.path) { files["tokenizer_config.json"] = settings }
    return PretrainTokenizer(endOfText: endOfText, files: files) { tokenizer.encode($0) }
}
