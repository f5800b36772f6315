import Compute
import Foundation
import Memory
import Qwen3
import SafeTensors
import Training
import XCTest

/// The memory step's own promises: fresh modules leave the backbone untouched, q̄ does not depend
/// on how the prompt is chunked, a sequence without candidates is skipped, and the seeded Gumbel
/// generator is reproducible.
final class MemoryStepTests: XCTestCase {
    func testFreshlyInitialisedMemoryGivesTheBackbonesLogitsExactly() throws {
        let backbone = try MemoryFixtures.backbone()
        let fixture = try MemoryFixtures.Case("cross-attention-full")
        let ids = Array(fixture.batch.inputs[0])
        let plain = backbone.forward(ids, cache: KVCache(config: backbone.config))
        for fusion in MemoryConfig.Fusion.allCases {
            for rank in [0, 4] {
                var config = MemoryConfig()
                config.fusion = fusion; config.fusionRank = rank; config.knowledgeLength = 6; config.numCandidates = 4
                config.fusionHeads = 2; config.fusionHeadDim = 8; config.memoryLayers = [0, 2]
                let memory = try MemoryModel(config: config, backbone: backbone)
                memory.initialize(seed: 11)
                XCTAssertTrue(memory.parameters.filter { !$0.name.contains("o_proj") && !$0.name.contains("down_proj") && !$0.name.hasSuffix("beta") }
                    .allSatisfy { p in p.value.array.contains { $0 != 0 } }, "\(fusion) rank \(rank): the other tensors are random")
                for mode in MemoryFixtures.modes {
                    let hook = try memory.layerHook(fixture.rowContext(mode, row: 0))
                    let withMemory = backbone.forward(ids, cache: KVCache(config: backbone.config), chunkSize: 5, afterLayer: hook)
                    XCTAssertEqual(withMemory.array, plain.array, "\(fusion) rank \(rank) \(mode): logits differ from the backbone's")
                }
            }
        }
    }

    /// Training from fresh modules: the loss is the backbone's, and the gradient reaches o_proj (or
    /// its b factor) and stops there, as the zero output blocks everything below it.
    func testFreshlyInitialisedMemoryTrainsFromTheBackbonesLoss() throws {
        let backbone = try MemoryFixtures.backbone()
        let fixture = try MemoryFixtures.Case("cross-attention-full")
        let V = backbone.config.vocabSize
        var plain = 0.0
        for b in 0..<fixture.batch.batchSize {
            let ids = fixture.ids(row: b), logits = backbone.forward(ids, cache: KVCache(config: backbone.config))
            plain += Array(fixture.batch.targets[b].prefix(ids.count)).withUnsafeBufferPointer {
                CrossEntropy.forwardBackward(logits: logits.data, targets: $0.baseAddress!, dLogits: nil, rows: ids.count, vocab: V).lossSum
            }
        }
        for rank in [0, 4] {
            var config = MemoryConfig()
            config.fusionRank = rank; config.knowledgeLength = 6; config.numCandidates = 4
            config.fusionHeads = 2; config.fusionHeadDim = 8; config.memoryLayers = [0, 2]
            let memory = try MemoryModel(config: config, backbone: backbone)
            memory.initialize(seed: 5)
            let context = fixture.context("train", memoryLayers: 2)
            context.similarityScale = 0
            let loss = Qwen3Backprop(model: backbone).step(fixture.batch, mode: try memory.backpropMode(context, batch: fixture.batch))
            XCTAssertEqual(loss.lossSum, plain, accuracy: 1e-6 * plain, "rank \(rank): batched GEMMs round differently, nothing more")
            for p in memory.parameters {
                let moves = p.grad.array.contains { $0 != 0 }
                let output = p.name.hasSuffix("o_proj.weight") || p.name.hasSuffix("o_proj.b")
                XCTAssertEqual(moves, output, "rank \(rank): \(p.name) gradient")
            }
        }
    }

    func testQueryStateIsTheMeanOverThePromptWhateverTheChunks() throws {
        let backbone = try MemoryFixtures.backbone()
        let memory = try MemoryFixtures.memory("cross-attention-full", backbone: backbone)
        let fixture = try MemoryFixtures.Case("cross-attention-full")
        var sample = fixture.samples[0]
        sample.promptLength = 9
        let ids = Array(fixture.batch.inputs[0])
        var states: [[Float]] = []
        for chunk in [1, 4, 9, 14] {
            let context = MemoryBatchContext(samples: [sample], selection: .argmax)
            _ = backbone.forward(ids, cache: KVCache(config: backbone.config), chunkSize: chunk, afterLayer: try memory.layerHook(context))
            states.append(try XCTUnwrap(context.queryState(layer: 2, sample: 0)))
        }
        for s in states.dropFirst() {
            XCTAssertLessThanOrEqual(s.withUnsafeBufferPointer { a in states[0].withUnsafeBufferPointer { relativeError(a.baseAddress!, $0.baseAddress!, count: a.count) } }, 1e-6)
        }
    }

    /// Token by token with one context (each step reuses the entries and the fusion's keys and
    /// values the earlier steps prepared) gives the logits and choices of one pass over the sequence.
    func testDecodingStepByStepReusesEntriesAndGivesTheLogitsOfOnePass() throws {
        let backbone = try MemoryFixtures.backbone()
        for name in ["cross-attention-full", "swiglu-full"] {
            let memory = try MemoryFixtures.memory(name, backbone: backbone)
            let fixture = try MemoryFixtures.Case(name)
            let ids = Array(fixture.batch.inputs[0])
            func run(chunk: Int) throws -> (logits: [Float], selected: [Int]) {
                let context = MemoryBatchContext(samples: [fixture.samples[0]], selection: .argmax)
                let logits = backbone.forward(ids, cache: KVCache(config: backbone.config), chunkSize: chunk, afterLayer: try memory.layerHook(context))
                return (logits.array, context.selected[2]![0])
            }
            let whole = try run(chunk: ids.count), stepwise = try run(chunk: 1)
            XCTAssertEqual(stepwise.selected, whole.selected, name)
            let error = stepwise.logits.withUnsafeBufferPointer { a in whole.logits.withUnsafeBufferPointer { relativeError(a.baseAddress!, $0.baseAddress!, count: a.count) } }
            XCTAssertLessThanOrEqual(error, 1e-5, "\(name): one row at a time rounds differently, nothing more")
        }
    }

    func testASequenceWithoutCandidatesIsLeftUnchanged() throws {
        let backbone = try MemoryFixtures.backbone()
        let memory = try MemoryFixtures.memory("swiglu-full", backbone: backbone)
        let ids = Array(try MemoryFixtures.Case("swiglu-full").batch.inputs[0])
        let context = MemoryBatchContext(samples: [MemorySample(candidates: [], promptLength: 4)], selection: .argmax)
        let logits = backbone.forward(ids, cache: KVCache(config: backbone.config), afterLayer: try memory.layerHook(context))
        XCTAssertEqual(logits.array, backbone.forward(ids, cache: KVCache(config: backbone.config)).array)
        XCTAssertEqual(context.selected[0]?[0], Array(repeating: -1, count: ids.count))
    }

    func testSeededGumbelSelectionIsReproducibleAndVaries() throws {
        let backbone = try MemoryFixtures.backbone()
        let memory = try MemoryFixtures.memory("cross-attention-full", backbone: backbone)
        let fixture = try MemoryFixtures.Case("cross-attention-full")
        func run(_ seed: UInt64) throws -> [Int] {
            let context = MemoryBatchContext(samples: fixture.samples, selection: .gumbel(GumbelNoise(generator: SeededGenerator(seed: seed))))
            Qwen3Backprop(model: backbone).step(fixture.batch, mode: try memory.backpropMode(context, batch: fixture.batch))
            return context.selected[0]![0]
        }
        XCTAssertEqual(try run(3), try run(3))
        XCTAssertGreaterThan(Set(try run(3)).count, 1, "τ = 0.5 and close scores: the noise changes the choice between tokens")
    }

    func testBadContextsAreRefusedWithAMessage() throws {
        let backbone = try MemoryFixtures.backbone()
        let memory = try MemoryFixtures.memory("cross-attention-full", backbone: backbone)
        let cases: [(MemorySample, String)] = [
            (MemorySample(candidates: [MemoryCandidate(row: 7, tokens: [1, 2], length: 0, score: 1)], promptLength: 1), "candidate row 7 has 0 tokens"),
            (MemorySample(candidates: [MemoryCandidate(row: 8, tokens: Array(repeating: 1, count: 7), length: 7, score: 1)], promptLength: 1), "candidate row 8 has 7 tokens"),
            (MemorySample(candidates: [MemoryCandidate(row: 9, tokens: [1, 999], length: 2, score: 1)], promptLength: 1), "candidate row 9 holds token 999"),
        ]
        for (sample, message) in cases {
            XCTAssertThrowsError(try memory.layerHook(MemoryBatchContext(samples: [sample], selection: .argmax))) {
                XCTAssertTrue("\($0)".contains(message), "\($0)")
            }
        }
        XCTAssertThrowsError(try memory.layerHook(MemoryBatchContext(samples: [], selection: .argmax))) {
            XCTAssertTrue("\($0)".contains("0 samples for a batch of 1"), "\($0)")
        }
    }
}
