import ArgumentParser
import Encoders
import Foundation
import Memory

extension LexicalFields: ExpressibleByArgument {}

struct BuildMemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-memory",
        abstract: "Build a memory bank from a knowledge base, or import the reference's knowledge_cache.pt (method.md §2, §3, §7).",
        discussion: "Each fact's sentence is tokenised with the model's tokenizer (its object appended as an answer "
            + "tokenises it), its key text (subject and predicate, else the sentence) embedded, the key halves "
            + "clustered by k-means into the n × n grid, and the rows written to BANK (bank.sqlite, index.safetensors). "
            + "Deterministic for a seed.")

    @OptionGroup var model: ModelOptions
    @Option(help: "The knowledge base: T-REx style JSON, or JSON Lines (.jsonl) with one fact per line.") var knowledge: String?
    @Option(help: "Instead of --knowledge: the reference implementation's knowledge_cache.pt (int64 [N, L_k] token ids).")
    var cache: String?
    @Option(help: "With --cache: the reference's keys.pt (float32 [2, n, K/2]); without it the keys are clustered anew.")
    var keys: String?
    @Option(help: "The bank directory to write (replaced if it holds a bank).") var out: String
    @Option(help: "A sentence encoder for the keys (default: the backbone).") var embedder: String?
    @Option(help: "Bank rows N, a perfect square (default: the smallest power of 4 ≥ 4 × the facts).") var knowledgeNum: Int?
    @Option(help: "Tokens per entry, L_k.") var knowledgeLength = 16
    @Option(help: "Seed of the k-means initialisation.") var seed: UInt64 = 0
    @Option(help: "What BM25 indexes of each row: text (method §4) or text,subject,predicate (the predicate's word and the subject meet questions the sentence does not).")
    var lexicalFields: LexicalFields = .text

    func validate() throws {
        guard (knowledge == nil) != (cache == nil) else { throw ValidationError("give exactly one of --knowledge and --cache") }
        if keys != nil && cache == nil { throw ValidationError("--keys goes with --cache") }
        if let n = knowledgeNum {
            let side = Int(Double(n).squareRoot().rounded())
            guard n >= 1, n <= 1 << 26, side * side == n else {
                throw ValidationError("--knowledge-num \(n) must be a perfect square in 1...\(1 << 26)")
            }
        }
        guard knowledgeLength >= 1, knowledgeLength <= 1024 else { throw ValidationError("--knowledge-length must be in 1...1024") }
    }

    func run() throws {
        let tokenizer = try BankTokenizer(url: model.directory)
        let embedderURL = embedder.map { URL(fileURLWithPath: $0) } ?? model.directory
        let sentenceEmbedder = try makeEmbedder(path: embedderURL, textEncoder: { tokenizer.tokenizer.encode($0) })
        var config = MemoryConfig()
        config.knowledgeLength = knowledgeLength
        // `--out out/bank` on a fresh checkout: the folder that will hold the bank is made first.
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: out).deletingLastPathComponent(), withIntermediateDirectories: true)
        var bar: ProgressBar?
        var phase = ""
        let progress: MemoryBuilder.Progress = { name, done, total in
            if name != phase {
                if bar != nil { bar!.finish() }
                phase = name
                bar = ProgressBar(total: total, unit: name)
            }
            bar!.update(done: done)
        }
        let report: MemoryBuilder.Report
        if let cache {
            (_, report) = try MemoryBuilder.importReference(
                cache: URL(fileURLWithPath: cache), keys: keys.map { URL(fileURLWithPath: $0) }, at: URL(fileURLWithPath: out),
                tokenizer: tokenizer, embedder: sentenceEmbedder, embedderName: embedderURL.path, config: config, seed: seed,
                progress: progress)
        } else {
            let knowledgeBase = try KnowledgeBase.load(URL(fileURLWithPath: knowledge!))
            (_, report) = try MemoryBuilder.build(
                knowledgeBase, at: URL(fileURLWithPath: out), tokenizer: tokenizer, embedder: sentenceEmbedder,
                embedderName: embedderURL.path, config: config, knowledgeNum: knowledgeNum, seed: seed, lexicalFields: lexicalFields,
                progress: progress)
        }
        bar?.finish()
        print("\(report.facts) facts in a bank of \(report.knowledgeNum) rows (L_k \(report.knowledgeLength), K \(report.knowledgeDim)) at \(out)")
        print("\(report.cutRows) rows cut to \(report.knowledgeLength) tokens")
        print(report.occupancy)
    }
}
