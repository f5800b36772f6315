import ArgumentParser
import Encoders
import FileIO
import Foundation
import Memory
import Tokenizers
import Training

struct LabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Label conversations for the router (method.md §7): the bank rows each query should retrieve.",
        discussion: "Writes one {\"query\", \"target_indices\", \"target_scores\"} line per conversation: the query is the last "
            + "user turn; a line whose fact_uuid names a bank row gets that row with score 1, any other the embedder's exact "
            + "top-k rows by cosine between the query and the rows' key embeddings (brute force over every row).")

    @Option(help: "The memory bank.") var memory: String
    @Option(help: "Conversations, one {\"conversations\": [...], \"fact_uuid\"?} per line.") var input: String
    @Option(help: "The labelled JSON Lines file to write.") var output: String
    @Option(help: "Rows per query without a gold row.") var topK = 32
    @Option(help: "The embedder (default: the one the bank was built with).") var embedder: String?
    @Flag(help: "Skip invalid lines (counted on standard error) instead of failing.") var skipInvalid = false

    func validate() throws {
        guard topK >= 1 else { throw ValidationError("--top-k must be ≥ 1") }
    }

    func run() throws {
        try FileTarget.checkReplaceable(output)  // before the work, not after
        let bankURL = URL(fileURLWithPath: memory)
        let bank = try MemoryBank.open(at: bankURL, tokenizer: try BankTokenizer(url: bankURL))
        let inputURL = URL(fileURLWithPath: input)
        let dataset = try ConversationDataset.load(url: inputURL, skipBadLines: skipInvalid)
        var problems = dataset.problems
        var queries: [(query: String, gold: Int?)] = []
        let goldRows = try bank.rowsByUUID()
        for c in dataset.conversations {
            guard let user = c.messages.last(where: { $0.role == .user }) else {
                problems.append("\(inputURL.path):\(c.line): no user turn (its content is the query)")
                continue
            }
            queries.append((user.content, c.factUUID.flatMap { goldRows[$0] }))
        }
        if !skipInvalid && problems.count > dataset.problems.count {
            throw CLIError(problems.joined(separator: "\n"))
        }
        reportSkipped(problems, what: "line")

        let open = queries.indices.filter { queries[$0].gold == nil }
        let unknown = dataset.conversations.filter { c in c.factUUID.map { goldRows[$0] == nil } ?? false }.count
        if unknown > 0 {
            FileHandle.standardError.write(Data("\(unknown) fact_uuid(s) name no bank row: those queries get the embedder's top \(topK)\n".utf8))
        }
        var found: [Int: [(row: Int, score: Float)]] = [:]
        if !open.isEmpty {
            let path = embedder ?? bank.embedder
            guard !path.isEmpty else { throw CLIError("\(memory): the bank names no embedder; give --embedder") }
            let model = try makeEmbedder(path: URL(fileURLWithPath: path), textEncoder: { bank.tokenizer.tokenizer.encode($0) })
            let search = try ExactKeySearch(bank: bank, embedder: model, ownEmbedder: embedder == nil)
            var bar = ProgressBar(total: open.count, unit: "queries")
            var start = 0
            while start < open.count {
                let batch = Array(open[start..<min(open.count, start + 64)])
                for (i, top) in try search.top(batch.map { queries[$0].query }, k: topK).enumerated() { found[batch[i]] = top }
                start += batch.count
                bar.update(done: start)
            }
            bar.finish()
        }
        try AtomicFile.write(to: URL(fileURLWithPath: output)) { sink in
            for (i, q) in queries.enumerated() {
                let line = RouterExample.jsonLine(query: q.query, targets: q.gold.map { [(row: $0, score: Float(1))] } ?? found[i]!)
                try Array(line.utf8).withUnsafeBytes { try sink.write($0) }
            }
        }
        FileHandle.standardError.write(Data("\(queries.count) queries labelled: \(queries.count - open.count) by their fact_uuid, \(open.count) by the embedder's top \(topK)\n".utf8))
    }
}
