import ArgumentParser
import Encoders
import Foundation
import JSON
import Memory
import SafeTensors

struct RetrieveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieve",
        abstract: "The bank rows a query retrieves (method.md §4), best first.")

    @Option(help: "The memory bank.") var memory: String
    @Option(help: "The query text.") var query: String
    @Option(help: "How many rows.") var top = 16
    @Option(help: "lexical, encoder or hybrid (default: the checkpoint's, else lexical).") var retriever: String?
    @Option(help: "The embedder for encoder and hybrid (default: the one the bank was built with).") var model: String?
    @Option(help: "A memory checkpoint whose retriever to use.") var checkpoint: String?
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
        let embedder = kind == .lexical ? nil
            : try makeEmbedder(path: URL(fileURLWithPath: model ?? bank.embedder), textEncoder: { bank.tokenizer.tokenizer.encode($0) })
        let rows = try MemoryRetriever(bank: bank, retriever: kind, embedder: embedder, count: top).retrieve(query)
        if json {
            let results: [JSONValue] = try rows.map { r in
                .object([("row", .number(String(r.row))), ("score", .number(jsonNumber(r.score))), ("text", .string(try bank.row(r.row)?.text ?? ""))])
            }
            print(JSONValue.object([("query", .string(query)), ("results", .array(results))]).pythonJSON())
        } else {
            for r in rows { print("\(r.row)\t\(jsonNumber(r.score))\t\(try bank.row(r.row)?.text ?? "")") }
        }
    }
}
