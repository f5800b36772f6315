import ArgumentParser
import Foundation
import Tokenizers

/// `explicitlm detokenize`: ids to text, printed exactly (no newline added).
struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize",
        abstract: "Decode comma-separated ids with a tokenizer.json and print the text.")

    @Option(help: "tokenizer.json, or the directory holding it.")
    var tokenizer: String

    @Option(help: "Comma-separated token ids, e.g. 9707,11,1879.")
    var ids: String

    @Flag(help: "Leave out special tokens such as <|im_end|>.")
    var skipSpecialTokens = false

    func run() throws {
        let tok = try BPETokenizer(url: URL(fileURLWithPath: tokenizer))
        var parsed: [Int32] = []
        for (i, field) in ids.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let s = field.trimmingCharacters(in: .whitespaces)
            guard let id = Int32(s), id >= 0, Int(id) < tok.vocabularySize else {
                throw ValidationError("--ids: item \(i + 1) \"\(s)\" is not an id below \(tok.vocabularySize)")
            }
            parsed.append(id)
        }
        FileHandle.standardOutput.write(Data(tok.decode(parsed, skipSpecialTokens: skipSpecialTokens).utf8))
    }
}
