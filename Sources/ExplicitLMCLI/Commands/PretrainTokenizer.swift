import Foundation
import Training

/// The Qwen3 tokenizer for `pretrain`. The BPE tokenizer has not landed on main yet: this is the one
/// place to wire it (BPETokenizer(url:), encode without special tokens, id of "<|endoftext|>").
func loadPretrainTokenizer(_ config: PretrainConfig) throws -> PretrainTokenizer {
    let url = pretrainTokenizerURL(config)
    throw ConfigError("\(url.path): the Qwen3 tokenizer is not built into this version of explicitlm yet")
}
