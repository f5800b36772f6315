import Compute
import Foundation
import Memory
import Qwen3
import SafeTensors
import Training
import XCTest

/// The memory step against the PyTorch reference (scripts/make_memory_fixtures.py, float64): both
/// fusions, full rank and rank 4, straight-through Gumbel-Softmax (the same noise) and argmax, over a
/// masked batch of two rows of different lengths with several assistant turns. Tolerances: gradients
/// 1e-4 relative per tensor; loss sum and auxiliary terms 1e-5 relative; logits 1e-4 max abs.
final class MemoryParityTests: XCTestCase {
    let tolerance = 1e-4

    /// The training path: Qwen3Backprop in frozen mode with the memory step after each memory layer.
    func testTrainingPathMatchesPyTorch() throws {
        try MemoryFixtures.forEachCase { name, backbone, memory, fixture in
            let golden = fixture.golden
            for mode in MemoryFixtures.modes {
                memory.zeroGradients()
                let context = fixture.context(mode, memoryLayers: memory.layers.count)
                let backprop = Qwen3Backprop(model: backbone)
                let loss = backprop.step(fixture.batch, mode: try memory.backpropMode(context, batch: fixture.batch))
                let label = "\(name) \(mode)"

                XCTAssertEqual(loss.tokens, fixture.answerTokens, label)
                let refLoss = Double(try golden.tensor("\(mode).loss_sum").data[0])
                XCTAssertLessThanOrEqual(abs(loss.lossSum - refLoss) / abs(refLoss), 1e-5, "\(label) loss_sum \(loss.lossSum) vs \(refLoss)")
                for (term, ours) in [("similarity", context.similarityLoss), ("diversity", context.diversityLoss)] {
                    let ref = Double(try golden.tensor("\(mode).\(term)").data[0])
                    XCTAssertLessThanOrEqual(abs(ours - ref), 1e-5 * max(1, abs(ref)), "\(label) \(term) \(ours) vs \(ref)")
                }

                // The selections, token by token.
                let selected = try golden.int32s("\(mode).selected")
                let T = fixture.batch.sequenceLength, B = fixture.batch.batchSize
                for (k, layer) in memory.layers.enumerated() {
                    for b in 0..<B {
                        let ref = (0..<T).map { Int(selected[(k * B + b) * T + $0]) }
                        XCTAssertEqual(context.selected[layer.layer]?[b], ref, "\(label) layer \(layer.layer) row \(b) selections")
                    }
                    try assertQueryState(context, layer: layer.layer, rows: 0..<B, golden: golden, mode: mode, label)
                }

                var worst = (0.0, "")
                for p in memory.parameters {
                    let ref = try golden.tensor("\(mode).grad.\(p.name)")
                    XCTAssertEqual(p.grad.shape, ref.shape, "\(label) \(p.name)")
                    let e = relativeError(p.grad.data, ref.data, count: ref.count)
                    XCTAssertLessThanOrEqual(e, tolerance, "\(label) grad \(p.name)")
                    if e > worst.0 { worst = (e, p.name) }
                }
                let refHidden = try golden.tensor("\(mode).grad.hidden")
                let hidden = try XCTUnwrap(backprop.hiddenGradient)
                let eHidden = relativeError(hidden.data, refHidden.data, count: refHidden.count)
                XCTAssertLessThanOrEqual(eHidden, tolerance, "\(label) hidden-state gradient")
                print("memory parity \(label): worst gradient \(String(format: "%.2e", worst.0)) (\(worst.1)), "
                      + "hidden \(String(format: "%.2e", eHidden)), loss \(String(format: "%.1e", abs(loss.lossSum - refLoss) / abs(refLoss)))")
            }
        }
    }

    /// The inference path: Qwen3Model with the memory hook, one row at a time, prefilled in chunks
    /// of 3 (the prompt spans two chunks) and the last three tokens decoded one by one from the cache.
    func testInferencePathMatchesPyTorch() throws {
        try MemoryFixtures.forEachCase { name, backbone, memory, fixture in
            let V = backbone.config.vocabSize
            for mode in MemoryFixtures.modes {
                let reference = try fixture.golden.tensor("\(mode).logits")
                let T = fixture.batch.sequenceLength
                var worst: Float = 0
                for b in 0..<fixture.batch.batchSize {
                    let ids = fixture.ids(row: b), context = fixture.rowContext(mode, row: b)
                    let logits = try Self.inferenceLogits(backbone, memory, ids: ids, context: context)
                    let d = maxAbsDifference(logits.data, reference.data + b * T * V, count: ids.count * V)
                    XCTAssertLessThanOrEqual(d, 1e-4, "\(name) \(mode) row \(b) logits")
                    worst = max(worst, d)
                    for layer in memory.layers {
                        try assertQueryState(context, layer: layer.layer, rows: b..<(b + 1), golden: fixture.golden, mode: mode, "\(name) \(mode) inference")
                    }
                }
                print("memory parity \(name) \(mode) inference logits: max abs \(String(format: "%.2e", worst))")
            }
        }
    }

    /// The two paths agree with each other in eval mode: the training path's loss equals the
    /// cross-entropy of the inference path's logits.
    func testInferenceAndTrainingPathsGiveTheSameLossInEvalMode() throws {
        try MemoryFixtures.forEachCase { name, backbone, memory, fixture in
            let V = backbone.config.vocabSize
            let loss = Qwen3Backprop(model: backbone).step(
                fixture.batch, mode: try memory.backpropMode(fixture.context("eval", memoryLayers: memory.layers.count), batch: fixture.batch))
            var sum = 0.0
            for b in 0..<fixture.batch.batchSize {
                let ids = fixture.ids(row: b)
                let logits = try Self.inferenceLogits(backbone, memory, ids: ids, context: fixture.rowContext("eval", row: b))
                let targets = Array(fixture.batch.targets[b].prefix(ids.count))
                sum += targets.withUnsafeBufferPointer {
                    CrossEntropy.forwardBackward(logits: logits.data, targets: $0.baseAddress!, dLogits: nil, rows: ids.count, vocab: V).lossSum
                }
            }
            XCTAssertLessThanOrEqual(abs(sum - loss.lossSum) / loss.lossSum, 1e-5, "\(name): inference \(sum) vs training \(loss.lossSum)")
        }
    }

    static func inferenceLogits(_ backbone: Qwen3Model, _ memory: MemoryModel, ids: [Int32], context: MemoryBatchContext) throws -> Tensor {
        let V = backbone.config.vocabSize
        let hook = try memory.layerHook(context)
        let cache = KVCache(config: backbone.config, capacity: 8)
        let out = Tensor(zeros: [ids.count, V])
        let prefill = ids.count - 3
        let first = backbone.forward(Array(ids[..<prefill]), cache: cache, chunkSize: 3, afterLayer: hook)
        out.data.update(from: first.array, count: prefill * V)
        for t in prefill..<ids.count {
            let step = backbone.forward([ids[t]], cache: cache, afterLayer: hook)
            (out.data + t * V).update(from: step.array, count: V)
        }
        return out
    }

    func assertQueryState(_ context: MemoryBatchContext, layer: Int, rows: Range<Int>, golden: SafeTensorsFile,
                          mode: String, _ label: String) throws {
        let ref = try golden.tensor("\(mode).query_state.\(layer)")
        let D = ref.shape[1]
        for (i, b) in rows.enumerated() {
            let ours = try XCTUnwrap(context.queryState(layer: layer, sample: i), "\(label) q̄ layer \(layer) row \(b)")
            let e = ours.withUnsafeBufferPointer { relativeError($0.baseAddress!, ref.data + b * D, count: D) }
            XCTAssertLessThanOrEqual(e, 1e-5, "\(label) q̄ layer \(layer) row \(b)")
        }
    }
}
