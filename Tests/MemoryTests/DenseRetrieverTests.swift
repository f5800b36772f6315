import Compute
import Foundation
import Memory
import Qwen3
import Training
import XCTest

/// The dense retriever inside the forward pass (method §4): each memory layer's q̄ goes through its
/// MemoryGate (or the shared one) and the multi-index, and the inference and training seams read
/// the same rows.
final class DenseRetrieverTests: XCTestCase {
    static let keyDim = 8, side = 4, bankRows = 40

    /// The fixture's fusion weights (o_proj non-zero, so the memory changes the logits) with random
    /// MemoryGates.
    func denseMemory(_ backbone: Qwen3Model, shared: Bool) throws -> MemoryModel {
        let trained = try MemoryFixtures.memory("cross-attention-full", backbone: backbone)
        var config = trained.config
        config.retriever = .dense
        config.knowledgeDim = Self.keyDim
        config.shareGate = shared
        let memory = try MemoryModel(config: config, backbone: backbone)
        memory.initialize(seed: 21)
        let weights = Dictionary(trained.parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        for p in memory.parameters {
            if let w = weights[p.name] { p.value.data.update(from: w.data, count: w.count) }
        }
        XCTAssertEqual(memory.gates.count, shared ? 1 : memory.layers.count)
        return memory
    }

    /// Random keys [2, n, K/2], random cells (some rows empty) and random entries of 1...L_k tokens.
    struct Bank {
        let keys: Tensor, cells: [Int32], entries: [[Int32]]
        init(vocab: Int, knowledgeLength: Int) {
            var rng = SeededGenerator(seed: 4)
            let half = DenseRetrieverTests.keyDim / 2, n = DenseRetrieverTests.side
            keys = Tensor(shape: [2, n, half], values: (0..<(2 * n * half)).map { _ in Float(rng.normal()) })
            cells = (0..<DenseRetrieverTests.bankRows).map { i in i % 9 == 4 ? -1 : Int32(rng.next() % UInt64(n * n)) }
            entries = cells.indices.map { _ in (0..<(1 + Int(rng.next() % UInt64(knowledgeLength)))).map { _ in Int32(1 + rng.next() % UInt64(vocab - 1)) } }
        }
        func retriever(_ memory: MemoryModel) throws -> DenseRetriever {
            try DenseRetriever(grid: try KeyGrid(keys: keys, cells: cells), gates: memory.gates, count: memory.config.numCandidates) { r in
                MemoryCandidate(row: r.row, tokens: entries[r.row], length: entries[r.row].count, score: r.score)
            }
        }
    }

    /// Every memory layer's candidates are its gate's best cells for that layer's q̄, computed here by
    /// scoring every non-empty row with MemoryGate.scores (checked against PyTorch in
    /// MemoryGateTests) and sorting; argmax selection then reads the first for every position.
    func testEachLayerReadsItsGatesBestRowsForItsQueryState() throws {
        let backbone = try MemoryFixtures.backbone()
        let fixture = try MemoryFixtures.Case("cross-attention-full")
        let ids = fixture.ids(row: 0), promptLength = fixture.samples[0].promptLength
        for shared in [false, true] {
            let memory = try denseMemory(backbone, shared: shared)
            let bank = Bank(vocab: backbone.config.vocabSize, knowledgeLength: memory.config.knowledgeLength)
            let context = MemoryBatchContext(samples: [MemorySample(candidates: [], promptLength: promptLength)], selection: .argmax,
                                             dense: try bank.retriever(memory))
            XCTAssertEqual(context.prefillChunkSize(prompt: 600), 600, "the dense retriever reads a prompt whole")
            _ = backbone.forward(ids, cache: KVCache(config: backbone.config), chunkSize: context.prefillChunkSize(prompt: promptLength),
                                 afterLayer: try memory.layerHook(context))
            var lists: [[Int]] = []
            for (index, layer) in memory.layers.enumerated() {
                let q = try XCTUnwrap(context.queryState(layer: layer.layer, sample: 0))
                let gate = try XCTUnwrap(memory.gate(forLayerAt: index))
                let scores = gate.scores(gate.project(Tensor(shape: [1, q.count], values: q)), keys: bank.keys)
                let n = Self.side
                let expected = bank.cells.indices.filter { bank.cells[$0] >= 0 }
                    .map { row in (row, scores[0].data[Int(bank.cells[row]) / n] + scores[1].data[Int(bank.cells[row]) % n]) }
                    .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
                    .prefix(memory.config.numCandidates)
                let got = try XCTUnwrap(context.candidates(layer: layer.layer, sample: 0))
                XCTAssertEqual(got.map(\.row), expected.map(\.0), "shared \(shared), layer \(layer.layer)")
                for (g, e) in zip(got, expected) { XCTAssertEqual(g.score, e.1, accuracy: 1e-4 * max(1, abs(e.1))) }
                XCTAssertEqual(got.map(\.tokens), got.map { bank.entries[$0.row] })
                XCTAssertEqual(context.selected[layer.layer]?[0], Array(repeating: 0, count: ids.count), "argmax reads the best row")
                lists.append(got.map(\.row))
            }
            if !shared { XCTAssertGreaterThan(Set(lists).count, 1, "each layer's own gate, each layer's own rows") }
        }
    }

    /// The training seam (a padded batch, one pass) and the inference seam (each sequence prefilled
    /// whole, the rest decoded from the cache) read the same rows and give the same loss; the
    /// memory changes it.
    func testInferenceAndTrainingSeamsAgreeUnderTheDenseRetriever() throws {
        let backbone = try MemoryFixtures.backbone()
        let fixture = try MemoryFixtures.Case("cross-attention-full")
        let memory = try denseMemory(backbone, shared: false)
        let bank = Bank(vocab: backbone.config.vocabSize, knowledgeLength: memory.config.knowledgeLength)
        let V = backbone.config.vocabSize
        let samples = fixture.samples.map { MemorySample(candidates: [], promptLength: $0.promptLength, answerMask: $0.answerMask) }
        let training = MemoryBatchContext(samples: samples, selection: .argmax, dense: try bank.retriever(memory))
        let loss = Qwen3Backprop(model: backbone).step(fixture.batch, mode: try memory.backpropMode(training, batch: fixture.batch))

        var inference = 0.0, plain = 0.0
        for b in 0..<fixture.batch.batchSize {
            let ids = fixture.ids(row: b), prompt = samples[b].promptLength
            let context = MemoryBatchContext(samples: [samples[b]], selection: .argmax, dense: try bank.retriever(memory))
            let hook = try memory.layerHook(context)
            let cache = KVCache(config: backbone.config, capacity: 4)
            let logits = Tensor(zeros: [ids.count, V])
            let first = backbone.forward(Array(ids[..<prompt]), cache: cache, chunkSize: context.prefillChunkSize(prompt: prompt), afterLayer: hook)
            logits.data.update(from: first.array, count: prompt * V)
            for t in prompt..<ids.count {
                (logits.data + t * V).update(from: backbone.forward([ids[t]], cache: cache, afterLayer: hook).array, count: V)
            }
            for layer in memory.layers {
                XCTAssertEqual(context.candidates(layer: layer.layer, sample: 0)?.map(\.row),
                               training.candidates(layer: layer.layer, sample: b)?.map(\.row), "row \(b) layer \(layer.layer)")
            }
            let targets = Array(fixture.batch.targets[b].prefix(ids.count))
            let none = backbone.forward(ids, cache: KVCache(config: backbone.config))
            targets.withUnsafeBufferPointer { t in
                inference += CrossEntropy.forwardBackward(logits: logits.data, targets: t.baseAddress!, dLogits: nil, rows: ids.count, vocab: V).lossSum
                plain += CrossEntropy.forwardBackward(logits: none.data, targets: t.baseAddress!, dLogits: nil, rows: ids.count, vocab: V).lossSum
            }
        }
        XCTAssertLessThanOrEqual(abs(inference - loss.lossSum) / loss.lossSum, 1e-5, "inference \(inference) vs training \(loss.lossSum)")
        XCTAssertGreaterThan(abs(plain - loss.lossSum) / plain, 5e-5, "the dense memory changes the loss")
    }

    func testMismatchedKeysAreRefused() throws {
        let backbone = try MemoryFixtures.backbone()
        let memory = try denseMemory(backbone, shared: true)
        let grid = try KeyGrid(keys: Tensor(zeros: [2, 2, 3]), cells: [0, 1])
        XCTAssertThrowsError(try DenseRetriever(grid: grid, gates: memory.gates, count: 4) { _ in fatalError() }) {
            XCTAssertEqual("\($0)", "the MemoryGate projects to K = 8, the bank's keys have K = 6")
        }
    }
}
