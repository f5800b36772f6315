import ArgumentParser
import Encoders
import Foundation
import JSON
import Memory
import Qwen3
import SafeTensors
import Tokenizers

struct RetrieveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieve",
        abstract: "The bank rows a query retrieves (method.md §4), best first.",
        discussion: "The dense retriever reads the query state inside the backbone: give --model (the backbone) and "
            + "--checkpoint (its MemoryGate); the query is the prompt (with --chat: a user turn of the chat template, "
            + "as generate --chat renders it), and the rows are those of --layer.")

    @Option(help: "The memory bank.") var memory: String
    @Option(help: "The query text.") var query: String
    @Option(help: "How many rows.") var top = 16
    @Option(help: "lexical, encoder, dense or hybrid (default: the checkpoint's, else lexical).") var retriever: String?
    @Option(help: "The embedder for encoder and hybrid (default: the one the bank was built with); the backbone for dense.")
    var model: String?
    @Option(help: "A memory checkpoint whose retriever to use (dense: whose MemoryGate).") var checkpoint: String?
    @Option(help: "Dense: the memory layer whose gate retrieves (default: the first).") var layer: Int?
    @Flag(help: "Dense: render the query as a user turn of the chat template, with the generation prompt.") var chat = false
    @Flag(help: "Print {\"query\", \"results\": [{\"row\", \"score\", \"text\"}]}.") var json = false

    func validate() throws {
        guard top >= 1, top <= 4096 else { throw ValidationError("--top must be in 1...4096") }
        if let retriever, MemoryConfig.Retriever(rawValue: retriever) == nil {
            throw ValidationError("--retriever '\(retriever)' is not one of lexical, encoder, dense, hybrid")
        }
    }

    func run() throws {
        let bankURL = URL(fileURLWithPath: memory)
        let bank = try MemoryBank.open(at: bankURL, tokenizer: try BankTokenizer(url: bankURL))
        var kind = retriever.flatMap(MemoryConfig.Retriever.init(rawValue:)) ?? .lexical
        if retriever == nil, let checkpoint {
            let metadata = try SafeTensorsFile(url: URL(fileURLWithPath: checkpoint)).metadata
            guard let name = metadata["retriever"], let stored = MemoryConfig.Retriever(rawValue: name) else {
                throw CLIError("\(checkpoint): __metadata__ names no retriever")
            }
            kind = stored
        }
        if (layer != nil || chat) && kind != .dense { throw CLIError("--layer and --chat are for the dense retriever") }
        let rows: [RetrievedRow]
        if kind == .dense {
            rows = try denseRows()
        } else {
            let embedder = kind == .lexical ? nil
                : try makeEmbedder(path: URL(fileURLWithPath: model ?? bank.embedder), textEncoder: { bank.tokenizer.tokenizer.encode($0) })
            rows = try MemoryRetriever(bank: bank, retriever: kind, embedder: embedder, count: top).retrieve(query)
        }
        if json {
            let results: [JSONValue] = try rows.map { r in
                .object([("row", .number(String(r.row))), ("score", .number(jsonNumber(r.score))), ("text", .string(try bank.row(r.row)?.text ?? ""))])
            }
            print(JSONValue.object([("query", .string(query)), ("results", .array(results))]).pythonJSON())
        } else {
            for r in rows { print("\(r.row)\t\(jsonNumber(r.score))\t\(try bank.row(r.row)?.text ?? "")") }
        }
    }

    /// The query as a user turn through the backbone, with the memory step after each memory
    /// layer; the rows the chosen layer's gate found once the prompt was read.
    private func denseRows() throws -> [RetrievedRow] {
        guard let model, let checkpoint else {
            throw CLIError("--retriever dense needs --model (the backbone) and --checkpoint (its MemoryGate)")
        }
        let directory = URL(fileURLWithPath: model)
        let backbone = try Qwen3Model.load(directory: directory)
        let (bank, memoryModel) = try MemoryOptions.load(bank: memory, checkpoint: checkpoint, backbone: backbone, modelDirectory: directory)
        guard let dense = try memoryModel.denseRetriever(bank: bank, count: top) else {
            throw CLIError("\(checkpoint): its retriever is \(memoryModel.config.retriever.rawValue), not dense (it has no MemoryGate)")
        }
        let memoryLayers = memoryModel.layers.map(\.layer)
        let chosen = layer ?? memoryLayers[0]
        guard memoryLayers.contains(chosen) else {
            throw CLIError("--layer \(chosen) is not a memory layer of \(checkpoint) (\(memoryLayers.map(String.init).joined(separator: ", ")))")
        }
        let tokenizer = try BPETokenizer(url: directory)
        let prompt = chat ? try tokenizer.renderChat([ChatMessage(role: .user, content: query)], addGenerationPrompt: true) : query
        let ids = tokenizer.encode(prompt)
        guard !ids.isEmpty else { throw CLIError("--query encodes to no tokens") }
        try backbone.config.checkContext(ids.count, what: "--query")
        let context = MemoryBatchContext(samples: [MemorySample(candidates: [], promptLength: ids.count)], selection: .argmax, dense: dense)
        _ = backbone.forward(ids, cache: KVCache(config: backbone.config, capacity: ids.count), logits: .none,
                             chunkSize: context.prefillChunkSize(prompt: ids.count), afterLayer: try memoryModel.layerHook(context))
        return (context.candidates(layer: chosen, sample: 0) ?? []).map { RetrievedRow(row: $0.row, score: $0.score) }
    }
}
