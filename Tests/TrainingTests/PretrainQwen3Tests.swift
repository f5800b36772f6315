import Compute
import Foundation
import Qwen3
import SafeTensors
import Training
import XCTest

/// `pretrain` on a tiny random Qwen3 against PyTorch (transformers' Qwen3 in float64, AdamW,
/// clip_grad_norm_, get_cosine_schedule_with_warmup), and export/reload.
final class PretrainQwen3Tests: XCTestCase {
    static let directory = OptimFixtures.directory.appendingPathComponent("pretrain-qwen3")

    func golden() throws -> (SafeTensorsFile, PretrainData, PretrainConfig) {
        let f = try SafeTensorsFile(url: Self.directory.appendingPathComponent("golden.safetensors"))
        let tokens = try f.int32s("tokens")
        var sequences: [[Int32]] = [], start = 0
        for n in try f.int32s("lengths") {
            sequences.append(Array(tokens[start..<(start + Int(n))]))
            start += Int(n)
        }
        let spec = try f.doubles("spec")
        var c = PretrainConfig()
        c.batchSize = Int(spec[0]); c.accumulationSteps = Int(spec[1]); c.epochs = Int(spec[2])
        c.maxSteps = Int(spec[3]); c.learningRate = spec[4]; c.weightDecay = spec[5]; c.gradClip = spec[6]
        c.warmupRatio = spec[7]; c.shuffle = false; c.saveInterval = 0
        return (f, PretrainData(sequences: sequences, padId: sequences[0].last!), c)
    }

    /// Twenty optimizer steps (batch 2, accumulation 2, clipping on some steps) follow PyTorch's loss
    /// trajectory within 1e-4 relative; gradient norms within 1e-3, learning rates within 1e-12, and
    /// the final weights within 1e-3 of the largest weight of their tensor.
    func testTwentyStepsFollowPyTorch() throws {
        let (f, data, base) = try golden()
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        var config = base
        config.outDir = out.path
        let model = try Qwen3Model.load(directory: Self.directory)
        let metrics = try Pretrainer(config: config, model: Qwen3FullTraining(model: model), data: data).run()
        let losses = try f.doubles("losses"), norms = try f.doubles("grad_norms"), lrs = try f.doubles("lrs")
        XCTAssertEqual(metrics.count, 20)
        XCTAssertTrue(norms.contains { $0 > config.gradClip } && norms.contains { $0 < config.gradClip })
        for (i, m) in metrics.enumerated() {
            XCTAssertEqual(m.loss, losses[i], accuracy: abs(losses[i]) * 1e-4, "loss of step \(i + 1)")
            XCTAssertEqual(m.gradNorm, norms[i], accuracy: abs(norms[i]) * 1e-3, "grad norm of step \(i + 1)")
            XCTAssertEqual(m.lr, lrs[i], accuracy: abs(lrs[i]) * 1e-12, "lr of step \(i + 1)")
        }
        let worst = zip(metrics, losses).map { abs($0.loss - $1) / $1 }.max()!
        print("pretrain-qwen3: largest relative loss difference over 20 steps \(worst)")
        for (name, t) in model.weights.named(model.config) {
            let expected = try f.tensor("final." + name).array
            let scale = expected.map(abs).max()!
            let worst = zip(t.array, expected).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-3 * scale, "final \(name)")
        }
    }

    /// A model trained a few steps, exported with Qwen3Export, loads with the strict loader and gives
    /// bit-identical logits.
    func testExportReloadsToSameLogits() throws {
        let (_, data, base) = try golden()
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        var config = base
        config.outDir = out.path; config.maxSteps = 3
        let model = try Qwen3Model.load(directory: Self.directory)
        try Pretrainer(config: config, model: Qwen3FullTraining(model: model), data: data).run()
        let exported = out.appendingPathComponent("export")
        try Qwen3Export.save(model, to: exported)
        let reloaded = try Qwen3Model.load(directory: exported)
        XCTAssertEqual(reloaded.config, model.config)
        let ids = data.sequences[0] + data.sequences[1]
        let a = model.forward(ids, cache: KVCache(config: model.config, capacity: ids.count))
        let b = reloaded.forward(ids, cache: KVCache(config: model.config, capacity: ids.count))
        XCTAssertEqual(a.array, b.array)
    }

    /// From scratch: the initialiser draws normal(0, initializer_range) weights and ones for norms,
    /// reproducibly from the seed.
    func testInitializerFromConfig() throws {
        let config = try Qwen3Config.load(from: Self.directory.appendingPathComponent("config.json"))
        let range = try Qwen3Initializer.initializerRange(configJSON: Self.directory.appendingPathComponent("config.json"))
        XCTAssertEqual(range, 0.02)
        let a = try Qwen3Initializer.model(config: config, initializerRange: range, seed: 1)
        let b = try Qwen3Initializer.model(config: config, initializerRange: range, seed: 1)
        let c = try Qwen3Initializer.model(config: config, initializerRange: range, seed: 2)
        XCTAssertEqual(a.weights.embedTokens.array, b.weights.embedTokens.array)
        XCTAssertNotEqual(a.weights.embedTokens.array, c.weights.embedTokens.array)
        XCTAssertEqual(Set(a.weights.norm.array), [1])
        XCTAssertEqual(Set(a.weights.layers[0].qNorm.array), [1])
        let w = a.weights.layers[1].gateProj.array.map(Double.init)
        let mean = w.reduce(0, +) / Double(w.count)
        let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(w.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.002)
        XCTAssertEqual(std, 0.02, accuracy: 0.001)
    }
}
