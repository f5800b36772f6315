import ArgumentParser
import Encoders
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

    /// The memory for one sequence: its weights, the rows retrieved for the query, and the context
    /// whose hook runs the memory step after each memory layer.
    struct Run {
        let bank: MemoryBank
        let model: MemoryModel
        let rows: [RetrievedRow]
        let context: MemoryBatchContext
        let hook: Qwen3Model.LayerHook

        /// The rows fine selection chose at positions `from` onwards (in any memory layer), in
        /// retrieval order.
        func rowsUsed(from position: Int) -> [RetrievedRow] {
            var used = Set<Int>()
            for perSample in context.selected.values {
                for (t, j) in perSample[0].enumerated() where t >= position && j >= 0 { used.insert(j) }
            }
            return used.sorted().map { rows[$0] }
        }
    }

    /// nil without --memory. `defaultQuery` is the command's own choice when --query is absent.
    func prepare(backbone: Qwen3Model, modelDirectory: URL, defaultQuery: String, promptLength: Int) throws -> Run? {
        guard let memory, let checkpoint else { return nil }
        let bankURL = URL(fileURLWithPath: memory)
        // The model's tokenizer must be the bank's: the rows' token ids index its embedding table.
        let bank = try MemoryBank.open(at: bankURL, tokenizer: try BankTokenizer(url: modelDirectory))
        var base = MemoryConfig()
        base.knowledgeNum = bank.knowledgeNum
        let model = try MemoryModel.load(url: URL(fileURLWithPath: checkpoint), backbone: backbone, base: base)
        guard model.config.knowledgeLength == bank.knowledgeLength else {
            throw CLIError("\(checkpoint): knowledge_length \(model.config.knowledgeLength) differs from the bank's \(bank.knowledgeLength) (\(memory))")
        }
        let embedder = model.config.retriever == .lexical ? nil
            : try makeEmbedder(path: URL(fileURLWithPath: bank.embedder), textEncoder: { bank.tokenizer.tokenizer.encode($0) })
        let retriever = try MemoryRetriever(bank: bank, retriever: model.config.retriever, embedder: embedder, count: model.config.numCandidates)
        let rows = try retriever.retrieve(query ?? defaultQuery)
        let context = MemoryBatchContext(samples: [MemorySample(candidates: retriever.candidates(rows), promptLength: promptLength)],
                                         selection: .argmax)
        return Run(bank: bank, model: model, rows: rows, context: context, hook: try model.layerHook(context))
    }
}
