import ArgumentParser
import Foundation
import Tokenizers

/// `explicitlm tokenize`: text to ids, as `{"ids": [...]}`.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode text with a tokenizer.json and print {\"ids\": [...]}.")

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(help: "The text to encode (exactly as given). Without --text or --file, stdin is read to its end (a trailing newline is part of the text).")
    var text: String?

    @Option(help: "Read the text from this file instead.")
    var file: String?

    func validate() throws {
        if text != nil && file != nil { throw ValidationError("give --text or --file, not both") }
    }

    func run() throws {
        let tok = try tokenizerOptions.load()
        let input: String
        if let text {
            input = text
        } else {
            let data: Data
            if let file {
                guard let d = FileManager.default.contents(atPath: file) else { throw TokenizerError("\(file): cannot read the file") }
                data = d
            } else {
                data = FileHandle.standardInput.readDataToEndOfFile()
            }
            guard let s = String(validating: [UInt8](data), as: UTF8.self) else {
                throw TokenizerError("\(file ?? "stdin"): the input is not valid UTF-8")
            }
            input = s
        }
        let ids = tok.encode(input)
        print("{\"ids\": [" + ids.map(String.init).joined(separator: ", ") + "]}")
    }
}
