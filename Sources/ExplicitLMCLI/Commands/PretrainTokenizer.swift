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
    return PretrainTokenizer(endOfText: endOfText) { tokenizer.encode($0) }
}
