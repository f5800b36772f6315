import Compute
import Encoders
import Foundation
import Memory
import Qwen3
import TestSupport
import Tokenizers
import Training
import XCTest

/// The memory stages end to end on the tiny backbone and a bank of made-up capitals: memory
/// training makes held-out answers likelier than the same model without memory, an edited row
/// changes a trained model's answer, router training raises recall@C, and a run split by
/// `training.max_steps` and resumed writes the same losses bit for bit.
final class MemoryTrainingTests: TemporaryDirectoryTestCase {
    /// 24 made-up countries and capitals, so that no answer can come from anywhere but the bank.
    static let facts: [(country: String, capital: String)] = {
        let first = ["Zor", "Kal", "Mev", "Tas", "Ori", "Bel"], last = ["bia", "onia", "ustan", "ara"]
        let capitals = ["Quenta", "Lirrow", "Pasco", "Umbel", "Varna", "Dostri", "Kelm", "Ostra", "Faro", "Nimbi", "Trelo", "Gasko",
                        "Hollin", "Rivo", "Saska", "Wend", "Yarro", "Idra", "Cobel", "Moss", "Endra", "Jalo", "Pell", "Zinder"]
        return (0..<24).map { (first[$0 % 6] + last[$0 / 6], capitals[$0]) }
    }()

    var model: URL!
    var bankURL: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        model = try TinyModel.directory(in: work, name: "backbone")
        let facts = Self.facts.enumerated().map { i, f in
            Fact(sentence: "The capital of \(f.country) is \(f.capital).", uuid: "fact-\(i)", subject: f.country, predicate: "capital", object: f.capital)
        }
        let tokenizer = try BankTokenizer(url: model)
        var config = MemoryConfig()
        config.knowledgeLength = 48
        config.numCandidates = 4
        bankURL = work.appendingPathComponent("bank")
        _ = try MemoryBuilder.build(KnowledgeBase(facts: facts), at: bankURL, tokenizer: tokenizer,
                                    embedder: try makeEmbedder(path: model, textEncoder: { tokenizer.tokenizer.encode($0) }),
                                    embedderName: model.path, config: config, knowledgeNum: nil, seed: 1)
    }

    /// `{"conversations": [...], "fact_uuid"}` lines for the facts `indices`.
    func conversations(_ indices: Range<Int>, name: String, template: (String) -> String = { "What is the capital of \($0)?" }) throws -> String {
        let url = work.appendingPathComponent(name)
        let lines = indices.map { i in
            #"{"conversations": [{"role": "user", "content": "\#(template(Self.facts[i].country))"}, {"role": "assistant", "content": "\#(Self.facts[i].capital)"}], "fact_uuid": "fact-\#(i)"}"#
        }
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func memoryConfig(_ stage: MemoryTrainingConfig.Stage, out: String) -> MemoryTrainingConfig {
        var config = MemoryTrainingConfig(stage: stage)
        config.qwen3ModelPath = model.path
        config.cachePath = bankURL.path
        config.memory.fusionHeads = 2; config.memory.fusionHeadDim = 16; config.memory.fusionRank = 0; config.memory.gateRank = 0
        config.memory.numCandidates = 4
        config.batchSize = 8
        config.maxSeqLen = 128
        config.outDir = work.appendingPathComponent(out).path
        config.saveInterval = 0
        return config
    }

    func metrics(_ config: MemoryTrainingConfig) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: config.outDir + "/metrics.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    func testMemoryTrainingHelpsHeldOutQuestionsAndFollowsEdits() throws {
        var config = memoryConfig(.memory, out: "memory")
        config.sftDatasetPath = try conversations(0..<16, name: "train.jsonl")
        config.sftValDatasetPath = try conversations(16..<24, name: "val.jsonl")
        config.epochs = 100
        config.learningRate = 1e-2
        config.memory.fusionHeads = 4
        config.evalInterval = 50
        let setup = try MemoryTrainingRun.prepare(config)
        let steps = try setup.trainer.run()
        XCTAssertEqual(steps.count, 200)
        let evaluations = try metrics(config).filter { $0["eval_loss"] != nil }
        let first = try XCTUnwrap(evaluations.first), last = try XCTUnwrap(evaluations.last)
        let on = try XCTUnwrap(last["eval_loss"] as? Double), off = try XCTUnwrap(last["eval_loss_memory_off"] as? Double)
        print("memory training: held-out answer loss \(first["eval_loss"]!) → \(on) with memory, \(off) without")
        XCTAssertEqual(first["eval_loss"] as? Double, off, "fresh memory is the backbone")
        XCTAssertLessThan(on, 0.5 * off, "held-out answers are far likelier with the memory")
        let line = try XCTUnwrap(metrics(config).first { $0["loss_ce"] != nil })
        for key in ["step", "loss", "loss_ce", "loss_similarity", "loss_diversity", "lr", "grad_norm", "tokens_per_sec"] {
            XCTAssertNotNil(line[key], key)
        }

        // The trained memory reads the bank: after a held-out country's row is edited, the new capital
        // is the likelier answer and the old one the less likely, and the greedy answer changes.
        let trained = try MemoryModel.load(url: URL(fileURLWithPath: config.checkpointDirectory + "/sft_latest.safetensors"),
                                           backbone: setup.backbone, base: setup.memory.config)
        let data = try MemoryTrainingData(tokenizer: try BPETokenizer(url: model), systemMessage: nil, maxSeqLen: 128)
        let retriever = try MemoryRetriever(bank: setup.bank, retriever: .lexical, embedder: nil, count: 4)
        let V = setup.backbone.config.vocabSize
        func context(_ question: String, promptLength: Int) throws -> MemoryBatchContext {
            MemoryBatchContext(samples: [MemorySample(candidates: retriever.candidates(try retriever.retrieve(question)), promptLength: promptLength)],
                               selection: .argmax)
        }
        func answerLoss(_ country: String, _ answer: String) throws -> Double {
            let question = "What is the capital of \(country)?"
            let sample = try data.sample([ChatMessage(role: .user, content: question), ChatMessage(role: .assistant, content: answer)],
                                         goldRow: nil, line: 0)
            let targets = (0..<sample.ids.count).map { t in t + 1 < sample.ids.count && sample.lossMask[t + 1] ? sample.ids[t + 1] : CrossEntropy.ignoreIndex }
            let logits = setup.backbone.forward(sample.ids, cache: KVCache(config: setup.backbone.config),
                                                afterLayer: try trained.layerHook(try context(question, promptLength: sample.promptLength)))
            return withExtendedLifetime(logits) {
                targets.withUnsafeBufferPointer {
                    CrossEntropy.forwardBackward(logits: logits.data, targets: $0.baseAddress!, dLogits: nil, rows: targets.count, vocab: V).lossSum
                }
            }
        }
        func answer(_ country: String) throws -> String {
            let question = "What is the capital of \(country)?"
            let prompt = try data.promptIds([ChatMessage(role: .user, content: question)])
            var sampler = Sampler(temperature: 0, topK: 0, topP: 1, seed: 0)
            let ids = Generator(model: setup.backbone, eosTokenIds: [257]).generate(
                prompt: prompt, maxNewTokens: 8, sampler: &sampler, afterLayer: try trained.layerHook(try context(question, promptLength: prompt.count)))
            return data.tokenizer.decode(ids, skipSpecialTokens: true)
        }
        let (country, old, new) = (Self.facts[20].country, Self.facts[20].capital, "Lirrow")
        let before = (old: try answerLoss(country, old), new: try answerLoss(country, new), greedy: try answer(country))
        _ = try setup.bank.edit(row: 20, MemoryChange(text: "The capital of \(country) is \(new).", subject: country, predicate: "capital", object: new))
        let after = (old: try answerLoss(country, old), new: try answerLoss(country, new), greedy: try answer(country))
        print("edit \(country): \(old) → \(new): loss of \(new) \(before.new) → \(after.new), of \(old) \(before.old) → \(after.old); "
              + "greedy \"\(before.greedy)\" → \"\(after.greedy)\"")
        XCTAssertLessThan(after.new, before.new - 1, "the edited capital becomes likelier")
        XCTAssertGreaterThan(after.old, before.old + 1, "the old capital becomes less likely")
        XCTAssertNotEqual(before.greedy, after.greedy)
    }

    /// Labelled router queries (method §7) for every fact, in a template.
    func routerData(name: String, template: (String) -> String) throws -> String {
        let url = work.appendingPathComponent(name)
        try Self.facts.indices.map { i in #"{"query": "\#(template(Self.facts[i].country))", "target_indices": [\#(i)], "target_scores": [1.0]}"# }
            .joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testRouterTrainingRaisesRecallAndItsGateLoadsStrictly() throws {
        var config = memoryConfig(.router, out: "router")
        config.memory.retriever = .dense
        config.memory.memoryLayers = [1]
        config.routerDatasetPath = try routerData(name: "router.jsonl") { "What is the capital of \($0)?" }
        config.routerValDatasetPath = config.routerDatasetPath
        config.epochs = 40
        config.learningRate = 1e-2
        config.evalInterval = 30
        let setup = try MemoryTrainingRun.prepare(config)
        try setup.trainer.run()
        let recall = try metrics(config).compactMap { $0["eval_recall"] as? Double }
        print("router recall@4 on its queries: \(recall)")
        let first = try XCTUnwrap(recall.first), last = try XCTUnwrap(recall.last)
        XCTAssertLessThan(first, 0.5)
        XCTAssertGreaterThanOrEqual(last, 0.9)
        XCTAssertNotNil(try metrics(config).first { $0["loss_router"] != nil })
        let epochs = try FileManager.default.contentsOfDirectory(atPath: config.checkpointDirectory).filter { $0.hasPrefix("memory_gate_epoch_") }
        XCTAssertEqual(Set(epochs), Set((1...40).map { "memory_gate_epoch_\($0).safetensors" }))

        // The gate starts the memory stage through dataset.pretrained_router_path, name for name.
        let gate = config.checkpointDirectory + "/memory_gate_epoch_40.safetensors"
        var next = memoryConfig(.memory, out: "after-router")
        next.memory.retriever = .dense
        next.memory.memoryLayers = [1]
        next.sftDatasetPath = try conversations(0..<16, name: "train.jsonl")
        next.pretrainedRouterPath = gate
        let loaded = try MemoryTrainingRun.prepare(next).memory
        let trained = try MemoryModel.load(url: URL(fileURLWithPath: gate), backbone: setup.backbone, base: loaded.config)
        XCTAssertEqual(loaded.gateParameters.map { $0.value.array }, trained.gateParameters.map { $0.value.array })
        next.memory.memoryLayers = [0, 1]
        XCTAssertThrowsError(try MemoryTrainingRun.prepare(next)) {
            XCTAssertTrue("\($0)".contains("dataset.pretrained_router_path: \(gate) has no tensor memory.layers.0.gate."), "\($0)")
        }
    }

    /// In the memory stage the gate trains only when router data is replayed (method §8), beside the fusion.
    func testMemoryStageReplaysRouterDataToTrainTheGate() throws {
        var config = memoryConfig(.memory, out: "replay")
        config.memory.retriever = .dense
        config.memory.memoryLayers = [1]
        config.sftDatasetPath = try conversations(0..<16, name: "train.jsonl")
        config.epochs = 3
        config.learningRate = 1e-2
        let frozen = try MemoryTrainingRun.prepare(config)
        let gateBefore = frozen.memory.gateParameters.map { $0.value.array }
        try frozen.trainer.run()
        XCTAssertEqual(frozen.memory.gateParameters.map { $0.value.array }, gateBefore, "no router data: the gate stays as it was")
        XCTAssertNil(try metrics(config).first { $0["loss_router"] != nil })

        config.routerDatasetPath = try routerData(name: "router.jsonl") { "What is the capital of \($0)?" }
        config.outDir = work.appendingPathComponent("replay-router").path
        let replayed = try MemoryTrainingRun.prepare(config)
        try replayed.trainer.run()
        XCTAssertNotEqual(replayed.memory.gateParameters.map { $0.value.array }, gateBefore, "replayed router data trains the gate")
        let lines = try metrics(config).filter { $0["loss_ce"] != nil }
        XCTAssertEqual(lines.count, 6)
        XCTAssertTrue(lines.allSatisfy { ($0["loss_router"] as? Double).map { $0 > 0 } == true })

        config.memory.retriever = .lexical
        XCTAssertThrowsError(try MemoryTrainingRun.prepare(config)) { XCTAssertTrue("\($0)".contains("set model.retriever=dense"), "\($0)") }
    }

    /// A run stopped by training.max_steps and resumed writes the same losses as one run, bit for bit
    /// (shuffling, swaps and Gumbel noise all draw from the checkpointed generator).
    func testResumedRunRepeatsTheUninterruptedLosses() throws {
        func run(_ out: String, maxSteps: Int?, resume: Bool) throws -> MemoryTrainingConfig {
            var config = memoryConfig(.memory, out: out)
            config.sftDatasetPath = try conversations(0..<16, name: "train.jsonl")
            config.batchSize = 3
            config.accumulationSteps = 2
            config.epochs = 3
            config.learningRate = 1e-2
            config.maxSteps = maxSteps
            config.resume = resume
            config.evalNumSamples = 0
            try MemoryTrainingRun.prepare(config).trainer.run()
            return config
        }
        let whole = try metrics(try run("whole", maxSteps: nil, resume: false))
        _ = try run("split", maxSteps: 4, resume: false)
        let split = try metrics(try run("split", maxSteps: nil, resume: true))
        XCTAssertEqual(whole.count, 9)
        let fields = ["step", "loss", "loss_ce", "loss_similarity", "loss_diversity", "lr", "grad_norm"]
        XCTAssertEqual(split.map { l in fields.map { l[$0] as? Double } }, whole.map { l in fields.map { l[$0] as? Double } })
    }
}
