import ArgumentParser
import Foundation
import Memory
import Qwen3

/// `--memory BANK --checkpoint FILE [--query TEXT]`: run the backbone with the explicit memory.
struct MemoryOptions: ParsableArguments {
    @Option(help: "A memory bank (from build-memory); needs --checkpoint.") var memory: String?
    @Option(help: "The memory weights (method.md §11 safetensors); needs --memory.") var checkpoint: String?
    @Option(help: "The retrieval query (default: the last user turn with --chat, else the prompt's text).") var query: String?

    func validate() throws {
        guard (memory == nil) == (checkpoint == nil) else { throw ValidationError("--memory and --checkpoint go together") }
        if query != nil && memory == nil { throw ValidationError("--query needs --memory and --checkpoint") }
    }

    /// The memory for one sequence: its weights, and the context whose hook runs the memory step
    /// after each memory layer (with the rows the query retrieved, or the dense retriever).
    struct Run {
        let bank: MemoryBank
        let model: MemoryModel
        let context: MemoryBatchContext
        let hook: Qwen3Model.LayerHook

        /// The rows fine selection chose at positions `from` onwards, in memory-layer order, each
        /// layer's in retrieval order; a row once.
        func rowsUsed(from position: Int) -> [RetrievedRow] {
            var seen = Set<Int>(), used: [RetrievedRow] = []
            for layer in context.selected.keys.sorted() {
                guard let candidates = context.candidates(layer: layer, sample: 0) else { continue }
                let chosen = Set(context.selected[layer]![0].enumerated().filter { $0.offset >= position && $0.element >= 0 }.map(\.element))
                for j in chosen.sorted() where seen.insert(candidates[j].row).inserted {
                    used.append(RetrievedRow(row: candidates[j].row, score: candidates[j].score))
                }
            }
            return used
        }

        /// The chunk size for a prefill of `prompt` tokens (the dense retriever reads it whole).
        func prefillChunkSize(prompt: Int) -> Int { context.prefillChunkSize(prompt: prompt) }
    }

    /// nil without --memory. `defaultQuery` is the command's own choice when --query is absent.
    func prepare(backbone: Qwen3Model, modelDirectory: URL, defaultQuery: String, promptLength: Int) throws -> Run? {
        guard let memory, let checkpoint else { return nil }
        let (bank, model) = try Self.load(bank: memory, checkpoint: checkpoint, backbone: backbone, modelDirectory: modelDirectory)
        let context: MemoryBatchContext
        if let dense = try model.denseRetriever(bank: bank) {
            if query != nil { throw CLIError("--query: the dense retriever of \(checkpoint) reads the prompt's query state, not a query text") }
            context = MemoryBatchContext(samples: [MemorySample(candidates: [], promptLength: promptLength)], selection: .argmax, dense: dense)
        } else {
            let retriever = try MemoryRetriever(bank: bank, settings: model.config)
            let rows = try retriever.retrieve(query ?? defaultQuery)
            context = MemoryBatchContext(samples: [MemorySample(candidates: retriever.candidates(rows), promptLength: promptLength)],
                                         selection: .argmax)
        }
        return Run(bank: bank, model: model, context: context, hook: try model.layerHook(context))
    }

    /// The bank, opened with the backbone's tokenizer (the rows' token ids index its embedding
    /// table), and the memory weights of `checkpoint` for that backbone and bank.
    static func load(bank path: String, checkpoint: String, backbone: Qwen3Model, modelDirectory: URL) throws -> (MemoryBank, MemoryModel) {
        let bank = try MemoryBank.open(at: URL(fileURLWithPath: path), tokenizer: try BankTokenizer(url: modelDirectory))
        var base = MemoryConfig()
        base.knowledgeNum = bank.knowledgeNum
        let model = try MemoryModel.load(url: URL(fileURLWithPath: checkpoint), backbone: backbone, base: base)
        guard model.config.knowledgeLength == bank.knowledgeLength else {
            throw CLIError("\(checkpoint): knowledge_length \(model.config.knowledgeLength) differs from the bank's \(bank.knowledgeLength) (\(path))")
        }
        return (bank, model)
    }
}
