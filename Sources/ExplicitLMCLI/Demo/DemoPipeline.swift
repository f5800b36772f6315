import Encoders
import FileIO
import Foundation
import Memory
import Qwen3
import Training

/// The steps of `explicitlm demo`, in order, each reporting its progress on standard error:
/// backbone copy → bank → memory training → evaluation per retriever → edits → outputs.
struct DemoPipeline {
    let data: URL
    let backbone: URL
    /// The sentence encoder of the bank's keys (the encoder and hybrid retrievers); nil: the backbone
    /// embeds the keys and only the lexical retriever is measured (the backbone's mean states are no
    /// sentence encoder: recall near 0).
    let embedder: URL?
    let out: URL
    let trainingFile: URL
    let trainingSettings: [String]
    /// Questions per evaluation file (nil: all).
    let limit: Int?
    /// Also train the dense retriever's MemoryGate (a router stage) and measure it with the trained fusion.
    let dense: Bool
    let edits: Int
    let seed: UInt64

    struct Result {
        let table: String
        let examples: String
    }

    private func path(_ name: String) -> URL { out.appendingPathComponent(name) }
    private func input(_ name: String) throws -> URL {
        let url = data.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { throw CLIError("\(url.path): missing (the demo data needs it)") }
        return url
    }

    func run() throws -> Result {
        let started = Date()
        let knowledge = try input("knowledge.jsonl"), trainQuestions = try input("questions_memory_train_balanced.jsonl")
        let evalQuestions = try input("questions_eval.jsonl"), unseenQuestions = try input("questions_eval_unseen.jsonl")
        let knownQuestions = dense ? try input("questions_known.jsonl") : nil
        let outcome = try trainingConfig(trainQuestions: trainQuestions)
        try claimOutputDirectory()

        let model = path("backbone")
        try step("backbone") { try copyDirectory(backbone, to: model) }
        let bankURL = path("bank")
        // The keys' embedder, loaded once: it embeds the bank's keys and, with --embedder, the encoder retriever's queries.
        let bankTokenizer = try BankTokenizer(url: model)
        let keyEmbedder = try makeEmbedder(path: embedder ?? model, textEncoder: { bankTokenizer.tokenizer.encode($0) })
        try step("bank") {
            try buildBank(from: knowledge, at: bankURL, tokenizer: bankTokenizer, keyEmbedder: keyEmbedder,
                          embedderName: (embedder ?? model).path, knowledgeLength: outcome.memory.knowledgeLength)
        }
        let checkpoint = path("memory.safetensors")
        var training = outcome
        training.qwen3ModelPath = model.path
        training.cachePath = bankURL.path
        try step("memory training") { try train(training, to: checkpoint) }

        let backboneModel = try Qwen3Model.load(directory: model)
        let (bank, memory) = try MemoryOptions.load(bank: bankURL.path, checkpoint: checkpoint.path, backbone: backboneModel, modelDirectory: model)
        let tokenizer = bank.tokenizer.tokenizer
        let ends = try MemoryEvaluator.answerEnds(modelDirectory: model, backbone: backboneModel, tokenizer: tokenizer)
        let template = try tokenizer.chatTemplate(allowChatML: true)
        /// Memory off, the gold row and RAG (off: the same for every retriever; RAG: its top row) run
        /// with the lexical retriever only, to keep the demo within its time.
        func evaluator(_ bank: MemoryBank, _ retriever: MemoryConfig.Retriever, memoryOff: Bool, oracle: Bool) throws -> MemoryEvaluator {
            try MemoryEvaluator(
                memory: memory, bank: bank, tokenizer: tokenizer, eosTokenIds: ends,
                retriever: MemoryRetriever(bank: bank, retriever: retriever, embedder: retriever == .lexical ? nil : keyEmbedder,
                                           count: memory.config.numCandidates),
                settings: .init(maxNewTokens: 24, memoryOff: memoryOff, oracle: oracle, rag: retriever == .lexical, template: template))
        }
        let items = Self.spread(try EvaluationData.load(url: evalQuestions).items, limit)
        let unseen = Self.spread(try EvaluationData.load(url: unseenQuestions).items, limit)

        var rows: [DemoReport.RetrieverRow] = []
        var lexical: EvaluationReport?
        for retriever in [MemoryConfig.Retriever.lexical] + (embedder == nil ? [] : [.encoder, .hybrid]) {
            try step("evaluation, \(retriever.rawValue) retriever") {
                let main = try evaluator(bank, retriever, memoryOff: retriever == .lexical, oracle: retriever == .lexical)
                let report = try evaluate(main, items, "held-out questions")
                // The unseen template with the lexical retriever only, to keep the demo within its time.
                let other = retriever == .lexical ? try evaluate(evaluator(bank, retriever, memoryOff: false, oracle: false), unseen, "unseen template") : nil
                if retriever == .lexical { lexical = report }
                rows.append(DemoReport.RetrieverRow(retriever: retriever.rawValue, report: report, unseen: other, edits: nil))
            }
        }
        if dense {
            try step("router stage, dense retriever") {
                let router = try trainRouter(bank: bank, labelsFrom: [trainQuestions, knownQuestions!], model: model)
                // The router's MemoryGate and the memory stage's fusion, one dense memory.
                var combined = router
                // The gate weights alone (router_latest also holds the optimizer's state).
                combined.pretrainedRouterPath = combined.checkpointDirectory + "/memory_gate_epoch_\(router.epochs).safetensors"
                combined.pretrainedFusionPath = checkpoint.path
                let memory = try MemoryTrainingRun.makeMemory(combined, backbone: backboneModel, bank: bank)
                let evaluator = try MemoryEvaluator(memory: memory, bank: bank, tokenizer: tokenizer, eosTokenIds: ends, retriever: nil,
                                                    settings: .init(maxNewTokens: 24, memoryOff: false, template: template))
                rows.append(DemoReport.RetrieverRow(retriever: "dense", report: try evaluate(evaluator, items, "held-out questions"),
                                                    unseen: nil, edits: nil))
            }
        }
        // Edits go to a copy of the bank, through the edit path users have (`memory edit`).
        let edited = path("bank-edited")
        var plan: [FactEdit] = []
        try step("edits") {
            try copyDirectory(bankURL, to: edited)
            let copy = try MemoryBank.open(at: edited, tokenizer: try BankTokenizer(url: model))
            plan = try EditEvaluation.plan(items: items, bank: copy, count: edits, seed: seed)
            try EditEvaluation.apply(plan, to: copy)
            log("\(plan.count) facts edited in \(edited.path) (`explicitlm memory history` lists them)")
            let after = try evaluate(evaluator(copy, .lexical, memoryOff: false, oracle: false), items, "after the edits")
            rows[0].edits = EditEvaluation.measure(before: lexical!, after: after, edits: plan)
        }
        let report = DemoReport(rows: rows, bank: bank, edits: plan, seconds: Date().timeIntervalSince(started), limit: limit)
        try step("outputs") {
            try AtomicFile.write(Array(try report.evalLines(lexical!).utf8), to: path("eval.jsonl"))
            try AtomicFile.write(Array(report.summary().utf8), to: path("summary.json"))
            try AtomicFile.write(Array(report.accuracyChart().utf8), to: path("accuracy.svg"))
            let metrics = path("training/metrics.jsonl")
            try AtomicFile.write(Array(try PlotCommand.render(metrics: metrics, title: "memory training").utf8), to: path("training.svg"))
            try AtomicFile.write(Array(try report.markdown(examples: report.examples(lexical!)).utf8), to: path("report.md"))
        }
        return Result(table: report.table(), examples: try report.examples(lexical!))
    }

    /// The bank of every fact, tokenised with the backbone's tokenizer, keys from `keyEmbedder`, BM25 over each row's text, subject and predicate (README, The main job).
    private func buildBank(from knowledge: URL, at url: URL, tokenizer: BankTokenizer, keyEmbedder: SentenceEmbedder, embedderName: String,
                           knowledgeLength: Int) throws {
        var config = MemoryConfig()
        config.knowledgeLength = knowledgeLength
        var bar: ProgressBar?, phase = ""
        let (_, report) = try MemoryBuilder.build(
            try KnowledgeBase.load(knowledge), at: url, tokenizer: tokenizer, embedder: keyEmbedder, embedderName: embedderName,
            config: config, knowledgeNum: nil, seed: 0, lexicalFields: .textSubjectPredicate
        ) { name, done, total in
            if name != phase { bar?.finish(); phase = name; bar = ProgressBar(total: total, unit: name) }
            bar!.update(done: done)
        }
        bar?.finish()
        log("\(report.facts) facts in a bank of \(report.knowledgeNum) rows (L_k \(report.knowledgeLength)); \(report.cutRows) cut")
    }

    /// At most `limit` items spread evenly over the file (its entities and predicates come in blocks),
    /// in file order; all without a limit.
    static func spread<T>(_ items: [T], _ limit: Int?) -> [T] {
        guard let limit, limit < items.count else { return items }
        return (0..<limit).map { items[$0 * items.count / limit] }
    }

    /// The training file and the overrides, with the demo's data and output paths.
    private func trainingConfig(trainQuestions: URL) throws -> MemoryTrainingConfig {
        let paths = ["dataset.sft_dataset_path=\(trainQuestions.path)", "logging.out_dir=\(path("training").path)",
                     "model.qwen3_model_path=\(backbone.path)", "model.cache_path=\(path("bank").path)"]
        return try MemoryTrainingConfig.load(stage: .memory, arguments: paths + trainingSettings, configFile: trainingFile).config
    }

    /// The demo replaces what it wrote before in `out` (and removes `out/training`), so it writes only
    /// into a new or empty directory, or one it marked as its own.
    private func claimOutputDirectory() throws {
        let marker = path(".explicitlm-demo"), manager = FileManager.default
        if manager.fileExists(atPath: out.path) {
            let contents = try manager.contentsOfDirectory(atPath: out.path)
            guard contents.isEmpty || contents.contains(marker.lastPathComponent) else {
                throw CLIError("\(out.path): holds other files (\(contents.sorted().prefix(3).joined(separator: ", "))) and no earlier demo's; "
                    + "choose another --out or an empty directory")
            }
        }
        try manager.createDirectory(at: out, withIntermediateDirectories: true)
        try AtomicFile.write(Array("written by explicitlm demo; the next run replaces this directory's outputs\n".utf8), to: marker)
    }

    private func train(_ config: MemoryTrainingConfig, to checkpoint: URL) throws {
        // A fresh run each time: the demo owns <out>/training.
        try? FileManager.default.removeItem(at: path("training"))
        let setup = try MemoryTrainingRun.prepare(config)
        try TrainStage.train(setup)
        try AtomicFile.write(Array(try Data(contentsOf: setup.trainer.latestCheckpointURL)), to: checkpoint)
    }

    /// The router stage (method §8) on labels made from the training and known-entity questions
    /// (their gold rows, score 1; never an evaluation entity's): returns its configuration.
    private func trainRouter(bank: MemoryBank, labelsFrom files: [URL], model: URL) throws -> MemoryTrainingConfig {
        let directory = path("router"), labels = path("router/labels.jsonl")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let rows = try bank.rowsByUUID()
        var lines = ""
        for file in files {
            for item in try EvaluationData.load(url: file).items {
                guard let uuid = item.factUUID, let row = rows[uuid] else { continue }
                lines += RouterExample.jsonLine(query: item.question, targets: [(row: row, score: 1)])
            }
        }
        try AtomicFile.write(Array(lines.utf8), to: labels)
        var config = try MemoryTrainingConfig.load(
            stage: .router,
            arguments: ["model.qwen3_model_path=\(model.path)", "model.cache_path=\(path("bank").path)", "model.retriever=dense",
                        "dataset.router_dataset_path=\(labels.path)", "logging.out_dir=\(directory.path)", "training.learning_rate=1e-3",
                        "training.batch_size=32", "training.epochs=3", "training.warmup_ratio=0.1", "logging.log_interval=50",
                        "logging.save_interval=0"] + trainingSettings.filter { $0.hasPrefix("model.") },
            configFile: trainingFile).config
        config.memory.retriever = .dense
        let setup = try MemoryTrainingRun.prepare(config)
        try TrainStage.train(setup)
        return config
    }

    private func evaluate(_ evaluator: MemoryEvaluator, _ items: [EvaluationItem], _ what: String) throws -> EvaluationReport {
        var bar = ProgressBar(total: items.count, unit: what)
        let report = try evaluator.evaluate(items) { done, _ in bar.update(done: done) }
        bar.finish()
        return report
    }

    private func step(_ name: String, _ body: () throws -> Void) throws {
        let start = Date()
        log("== \(name)")
        try body()
        log(String(format: "   %@: %.1f s", name, Date().timeIntervalSince(start)))
    }

    private func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    /// Replaces `target` (a directory this demo wrote before, or nothing) with a copy of `source`'s files.
    private func copyDirectory(_ source: URL, to target: URL) throws {
        try AtomicDirectory.write(to: target, replacing: { _ in }) { directory in
            for name in try FileManager.default.contentsOfDirectory(atPath: source.path).sorted() {
                try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: directory.appendingPathComponent(name))
            }
        }
    }
}
