import ArgumentParser
import FileIO
import Foundation
import Qwen3
import SafeTensors
import Tokenizers

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Write the logits at every position of a token sequence to a safetensors file.",
        discussion: "With --memory and --checkpoint, the memory step runs after each memory layer (method.md §11's evaluation forward).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var computeOptions: ComputeOptions
    @Option(help: "Comma-separated token ids, e.g. 1,2,3.") var ids: String
    @Option(help: "Output file: one float32 tensor 'logits' [T, vocab].") var out: String
    @OptionGroup var memoryOptions: MemoryOptions

    func run() throws {
        try FileTarget.checkReplaceable(out)
        let tokens = try parseIds(ids)
        let qwen = try computeOptions.loadModel(model.directory)
        try checkVocabulary(tokens, vocabSize: qwen.config.vocabSize)
        try qwen.config.checkContext(tokens.count, what: "--ids")
        // With --memory the default query is the ids' text, decoded by the model's tokenizer.
        let defaultQuery = memoryOptions.memory == nil || memoryOptions.query != nil ? ""
            : try BPETokenizer(url: model.directory).decode(tokens, skipSpecialTokens: true)
        let memory = try memoryOptions.prepare(backbone: qwen, modelDirectory: model.directory, defaultQuery: defaultQuery,
                                               promptLength: tokens.count)
        let logits = qwen.forward(tokens, cache: KVCache(config: qwen.config, capacity: tokens.count),
                                 chunkSize: memory?.prefillChunkSize(prompt: tokens.count) ?? 512, afterLayer: memory?.hook)
        var writer = SafeTensorsWriter()
        writer.add("logits", logits)
        try writer.write(to: URL(fileURLWithPath: out))
    }
}
