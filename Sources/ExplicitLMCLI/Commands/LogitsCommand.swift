import ArgumentParser
import FileIO
import Foundation
import Qwen3
import SafeTensors

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Write the logits at every position of a token sequence to a safetensors file.")

    @OptionGroup var model: ModelOptions
    @Option(help: "Comma-separated token ids, e.g. 1,2,3.") var ids: String
    @Option(help: "Output file: one float32 tensor 'logits' [T, vocab].") var out: String

    func run() throws {
        try FileTarget.checkReplaceable(out)
        let tokens = try parseIds(ids)
        let qwen = try Qwen3Model.load(directory: model.directory)
        try checkVocabulary(tokens, vocabSize: qwen.config.vocabSize)
        try qwen.config.checkContext(tokens.count, what: "--ids")
        let logits = qwen.forward(tokens, cache: KVCache(config: qwen.config, capacity: tokens.count))
        var writer = SafeTensorsWriter()
        writer.add("logits", logits)
        try writer.write(to: URL(fileURLWithPath: out))
    }
}
