import ArgumentParser
import Foundation
import Tokenizers

/// `--tokenizer PATH`: a Hugging Face tokenizer.json, or the directory holding it (whose
/// tokenizer_config.json, when present, brings the added-token settings and the chat template).
struct TokenizerOptions: ParsableArguments {
    @Option(name: .long, help: "tokenizer.json, or the directory holding it (tokenizer_config.json beside it gives the chat template).")
    var tokenizer: String

    /// Reads and checks the tokenizer; errors name the file and the key at fault.
    func load() throws -> BPETokenizer {
        try BPETokenizer(url: URL(fileURLWithPath: tokenizer))
    }
}
