import ArgumentParser
import Foundation
import Tokenizers

/// `explicitlm detokenize`: ids to text, printed exactly (no newline added).
struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize",
        abstract: "Decode comma-separated ids with a tokenizer.json and print the text.")

    @OptionGroup var tokenizerOptions: TokenizerOptions
    @Option(help: "Comma-separated token ids, e.g. 9707,11,1879.") var ids: String
    @Flag(help: "Leave out special tokens such as <|im_end|>.") var skipSpecialTokens = false

    func run() throws {
        let parsed = try parseIds(ids)
        let tok = try tokenizerOptions.load()
        try checkVocabulary(parsed, vocabSize: tok.vocabularySize)
        FileHandle.standardOutput.write(Data(tok.decode(parsed, skipSpecialTokens: skipSpecialTokens).utf8))
    }
}
