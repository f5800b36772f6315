import ArgumentParser
import Foundation

/// `explicitlm demo`: the main job (README's first command) on the bundled demo data.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The main job: build the bank, train the memory, evaluate held-out facts, edit some and ask again (data/demo).",
        discussion: """
            Builds the bank from <data>/knowledge.jsonl with the frozen backbone's tokenizer, trains the memory (train-memory, \
            counterfactual swaps on) on <data>/questions_memory_train_balanced.jsonl under <data>/memory_training.yaml, \
            evaluates on the evaluation entities (questions_eval.jsonl: memory off and on, the gold row handed to the fusion, \
            RAG; questions_eval_unseen.jsonl: a question template no training used) with the lexical retriever, the dense \
            one after a router stage (--no-dense skips it) and, with --embedder, the encoder and hybrid ones, \
            then edits some of their facts in a copy of the bank and asks again (edit success, locality). Writes \
            <out>/backbone/, <out>/bank/, <out>/bank-edited/, <out>/memory.safetensors, <out>/eval.jsonl, \
            <out>/report.md and SVG plots, and prints the table. Settings after the options override the training file's.
            """)

    @Option(help: "The demo data (scripts/demo/make_knowledge.py's output).") var data = "data/demo"
    @Option(help: "The frozen backbone: a Qwen3 model directory with its tokenizer files.") var backbone = "data/demo/backbone"
    @Option(help: "The output directory.") var out = "out/demo"
    @Option(help: "A sentence encoder (e.g. all-MiniLM-L6-v2) for the bank's keys: adds the encoder and hybrid retrievers.")
    var embedder: String?
    @Option(help: "Memory training settings (YAML or JSON; default: <data>/memory_training.yaml).") var config: String?
    @Flag(help: "A shorter run: fewer training epochs, evaluation items and edits.") var quick = false
    @Option(help: "Questions of each evaluation file, spread over it (default: all; 200 with --quick; 0: all).") var limit: Int?
    @Flag(inversion: .prefixedNo, help: "Train the dense retriever's MemoryGate (a router stage on the training and known-entity questions) and measure it.")
    var dense = true
    @Option(help: "Facts to edit (default: 100; 30 with --quick).") var edits: Int?
    @Option(help: "Seed of the choice of edits.") var seed: UInt64 = 0
    @Argument(help: "Training settings (key=value) that override the training file's, e.g. training.epochs=2.") var settings: [String] = []

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be ≥ 0") }
        if let edits, edits < 0 { throw ValidationError("--edits must be ≥ 0") }
        if let bad = settings.first(where: { !$0.contains("=") }) { throw ValidationError("\"\(bad)\" is not key=value") }
    }

    func run() throws {
        let data = URL(fileURLWithPath: data)
        let demo = DemoPipeline(
            data: data, backbone: URL(fileURLWithPath: backbone), embedder: embedder.map { URL(fileURLWithPath: $0) }, out: URL(fileURLWithPath: out),
            trainingFile: URL(fileURLWithPath: config ?? data.appendingPathComponent("memory_training.yaml").path),
            trainingSettings: (quick ? ["training.epochs=2"] : []) + settings,
            limit: (limit ?? (quick ? 200 : 0)).flatMap { $0 == 0 ? nil : $0 }, dense: dense, edits: edits ?? (quick ? 30 : 100), seed: seed)
        let result = try demo.run()
        print(result.table, terminator: "")
        print("\n" + result.examples, terminator: "")
        print("\nwrote \(out)/report.md, \(out)/eval.jsonl, \(out)/memory.safetensors, \(out)/bank (and bank-edited), \(out)/backbone")
    }
}
