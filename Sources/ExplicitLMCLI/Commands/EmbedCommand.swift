import ArgumentParser
import Compute
import Encoders
import FileIO
import Foundation
import JSON
import SafeTensors

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed texts with a sentence encoder (L2-normalised vectors).",
        discussion: "--text prints {\"embedding\": [...]}; --input FILE.jsonl (one {\"text\": ...} object per line, blank "
            + "lines skipped) with --out FILE.safetensors writes the float32 tensor 'embeddings' [lines, K].")

    @Option(help: "Embedder directory: a BERT-family sentence encoder (Hugging Face / sentence-transformers layout) or a Qwen3 checkpoint with tokenizer.json (mean of final-norm hidden states).")
    var model: String
    @Option(help: "One text to embed.") var text: String?
    @Option(help: "A JSONL file of {\"text\": ...} lines to embed.") var input: String?
    @Option(help: "Output safetensors file for --input.") var out: String?
    @Option(help: "Texts per forward pass.") var batchSize = 32

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--model \(model): no such directory")
        }
        guard (text == nil) != (input == nil) else { throw ValidationError("give exactly one of --text and --input") }
        if input != nil && out == nil { throw ValidationError("--input needs --out FILE.safetensors") }
        if text != nil && out != nil { throw ValidationError("--out goes with --input, not --text") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() throws {
        let embedder = try makeEmbedder(path: URL(fileURLWithPath: model))
        if let text {
            let vector = try embedder.embed([text])[0]
            print("{\"embedding\": [\(vector.map(jsonNumber).joined(separator: ", "))]}")
            return
        }
        try FileTarget.checkReplaceable(out!)  // before the work, not after
        let texts = try Self.readTexts(input!)
        let K = embedder.dimension
        let embeddings = Tensor(zeros: [texts.count, K])
        var progress = ProgressBar(total: texts.count)
        var start = 0
        while start < texts.count {
            let end = min(texts.count, start + batchSize)
            for (i, v) in try embedder.embed(Array(texts[start..<end])).enumerated() {
                v.withUnsafeBufferPointer { embeddings.row(start + i).update(from: $0.baseAddress!, count: K) }
            }
            start = end
            progress.update(done: end)
        }
        progress.finish()
        var writer = SafeTensorsWriter()
        writer.add("embeddings", embeddings)
        try writer.write(to: URL(fileURLWithPath: out!))
    }

    /// The "text" of every non-blank line; errors name the file and line.
    static func readTexts(_ path: String) throws -> [String] {
        try readJSONLines(URL(fileURLWithPath: path)).map { line, object in
            guard let text = object["text"]?.stringValue else {
                throw CLIError("\(path):\(line): key 'text' is missing or not a string")
            }
            return text
        }
    }
}
