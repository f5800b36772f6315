import ArgumentParser
import Foundation
import Tokenizers

/// `explicitlm tokenize`: text to ids, as `{"ids": [...]}`.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode text with a tokenizer.json and print {\"ids\": [...]}.")

    @Option(help: "tokenizer.json, or the directory holding it.")
    var tokenizer: String

    @Option(help: "The text to encode (exactly as given). Without --text or --file, stdin is read to its end (a trailing newline is part of the text).")
    var text: String?

    @Option(help: "Read the text from this file instead.")
    var file: String?

    @Flag(help: "Benchmark: encode the --file line by line and print timing as JSON instead of ids.")
    var bench = false

    func validate() throws {
        if text != nil && file != nil { throw ValidationError("give --text or --file, not both") }
        if bench && file == nil { throw ValidationError("--bench needs --file") }
    }

    func run() throws {
        let loadStart = Date()
        let tok = try BPETokenizer(url: URL(fileURLWithPath: tokenizer))
        let loadSeconds = Date().timeIntervalSince(loadStart)
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
        if bench {
            try runBench(tok, input, loadSeconds: loadSeconds)
            return
        }
        let ids = tok.encode(input)
        print("{\"ids\": [" + ids.map(String.init).joined(separator: ", ") + "]}")
    }

    /// Encodes each line on its own, the same work bench/tokenizer_bench.py gives Hugging Face.
    private func runBench(_ tok: BPETokenizer, _ input: String, loadSeconds: Double) throws {
        // Split on the byte "\n" (a Character split would keep "\r\n" together), as Python's str.split does.
        let lines = input.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        var tokens = 0
        var encoded: [[Int32]] = []
        encoded.reserveCapacity(lines.count)
        let start = Date()
        for line in lines {
            let ids = tok.encode(line)
            tokens += ids.count
            encoded.append(ids)
        }
        let seconds = Date().timeIntervalSince(start)
        // A checksum of every id in order, computed the same way by bench/tokenizer_bench.py.
        var checksum: UInt64 = 0
        for ids in encoded { for id in ids { checksum = checksum &* 1_000_003 &+ UInt64(id) } }
        print("{\"lines\": \(lines.count), \"bytes\": \(input.utf8.count), \"tokens\": \(tokens), \"seconds\": \(seconds), "
              + "\"tokens_per_second\": \(Double(tokens) / seconds), \"load_seconds\": \(loadSeconds), \"checksum\": \(checksum)}")
    }
}
