import ArgumentParser
import Foundation
import JSON
import Memory
import Qwen3
import Training

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a memory checkpoint (method.md §9): accuracy with memory off and on, recall@C, selection.",
        discussion: "--data holds the seed's conversations ({\"conversations\": [...], \"fact_uuid\"}, one per line; the last "
            + "assistant turn is the gold answer) or OMCQ items ({\"question\", \"options\", \"correct_answer\", \"uuid\"}: alone, "
            + "in an array, under \"target\", or one per line). Greedy answers are judged by startswith, exact and contains; "
            + "multiple-choice items also by option log-likelihood. --oracle adds the answers with only the gold row handed to "
            + "the fusion (the fusion's ceiling); --rag the plain backbone with the top retrieved row's text in the prompt.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var computeOptions: ComputeOptions
    @Option(help: "The memory bank (from build-memory).") var memory: String
    @Option(help: "The memory weights (method.md §11 safetensors).") var checkpoint: String
    @Option(help: "The evaluation items (JSON Lines or JSON).") var data: String
    @Flag(help: "Print the report as one JSON object.") var json = false
    @Flag(help: "With --json: every item's answers and the rows its memory layers read.") var items = false
    @Flag(help: "Also answer with only the gold row as candidate.") var oracle = false
    @Flag(help: "Also answer with retrieval-augmented prompting: the plain backbone with the top retrieved row's text on a line before the question.")
    var rag = false
    @Option(help: "Evaluate the first N items.") var limit: Int?
    @Option(help: "Most tokens of each greedy answer.") var maxNewTokens = 32
    @Option(help: "A system message first in every prompt that has none.") var system: String?
    @Flag(help: "Skip invalid items (counted on standard error) instead of failing.") var skipInvalid = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be ≥ 1") }
        guard maxNewTokens >= 0 else { throw ValidationError("--max-new-tokens must be ≥ 0") }
        if items && !json { throw ValidationError("--items goes with --json") }
    }

    func run() throws {
        let dataset = try EvaluationData.load(url: URL(fileURLWithPath: data), system: system, skipInvalid: skipInvalid)
        reportSkipped(dataset.problems, what: "item")
        let backbone = try computeOptions.loadModel(model.directory)
        let (bank, memoryModel) = try MemoryOptions.load(bank: memory, checkpoint: checkpoint, backbone: backbone, modelDirectory: model.directory)
        let tokenizer = bank.tokenizer.tokenizer
        let eos = try MemoryEvaluator.answerEnds(modelDirectory: model.directory, backbone: backbone, tokenizer: tokenizer)
        let retriever = memoryModel.config.retriever == .dense ? nil : try MemoryRetriever(bank: bank, settings: memoryModel.config)
        let evaluator = try MemoryEvaluator(memory: memoryModel, bank: bank, tokenizer: tokenizer, eosTokenIds: eos, retriever: retriever,
                                            settings: .init(maxNewTokens: maxNewTokens, memoryOff: true, oracle: oracle, rag: rag,
                                                           template: try tokenizer.chatTemplate(allowChatML: true)))
        let total = min(limit ?? dataset.items.count, dataset.items.count)
        var bar = ProgressBar(total: total, unit: "items")
        let report = try evaluator.evaluate(dataset.items, limit: limit) { done, _ in bar.update(done: done) }
        bar.finish()
        if json {
            print(report.json(includeItems: items).pythonJSON())
        } else {
            print(EvalTable.render(report, candidates: memoryModel.config.numCandidates), terminator: "")
        }
    }
}

/// "skipped N invalid …" and the first reasons, on standard error.
func reportSkipped(_ problems: [String], what: String) {
    guard !problems.isEmpty else { return }
    var text = "skipped \(problems.count) invalid \(what)(s):\n" + problems.prefix(10).joined(separator: "\n") + "\n"
    if problems.count > 10 { text += "… and \(problems.count - 10) more\n" }
    FileHandle.standardError.write(Data(text.utf8))
}
