import Compute
import Foundation
import Qwen3
import SafeTensors
import Training
import XCTest

/// Loss and gradients against PyTorch autograd through transformers' Qwen3 (float64 reference) on
/// tiny random checkpoints, with an assistant-style masked loss over B = 2 rows, one right-padded.
/// Tolerance: relative error ‖ours − torch‖ / ‖torch‖ ≤ 1e-4 per tensor; loss sum within 1e-5 relative.
final class GradientParityTests: XCTestCase {
    let tolerance = 1e-4

    func testFullModeGradientsOfEveryWeightMatchAutograd() throws {
        for variant in GradFixtures.variants {
            let model = try Qwen3Model.load(directory: GradFixtures.directory(variant))
            let golden = try GradFixtures.golden(variant)
            let batch = try GradFixtures.batch(golden)
            let gradients = Qwen3Gradients(model: model)
            let backprop = Qwen3Backprop(model: model)
            let loss = backprop.step(batch, mode: .full(gradients))

            XCTAssertEqual(loss.tokens, Int(try golden.int32s("loss_tokens")[0]), variant)
            try assertLossSum(loss.lossSum, "loss_sum", in: golden, variant)

            let goldenNames = Set(golden.names.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) })
            let ours = gradients.named
            XCTAssertEqual(Set(ours.map(\.0)), goldenNames, "\(variant): the gradients cover every weight once")
            XCTAssertEqual(gradients.parameters.count, ours.count)
            for (name, grad) in ours where goldenNames.contains(name) {
                XCTAssertEqual(grad.shape, try golden.tensor("grad." + name).shape, "\(variant) \(name)")
                try assertClose(grad, "grad." + name, in: golden, "\(variant) \(name)")
            }
        }
    }

    func testLossRowsInSeveralHeadChunksGiveTheSameGradients() throws {
        let variant = "tied-gqa"
        let model = try Qwen3Model.load(directory: GradFixtures.directory(variant))
        let golden = try GradFixtures.golden(variant)
        let gradients = Qwen3Gradients(model: model)
        let backprop = Qwen3Backprop(model: model)
        backprop.headChunk = 4  // 13 loss rows: chunks of 4, 4, 4, 1
        let loss = backprop.step(try GradFixtures.batch(golden), mode: .full(gradients))
        try assertLossSum(loss.lossSum, "loss_sum", in: golden, variant)
        for (name, grad) in gradients.named {
            try assertClose(grad, "grad." + name, in: golden, name)
        }
    }

    func testGradientsAccumulateOverStepsAndScale() throws {
        let variant = "untied-bias-gqa"
        let model = try Qwen3Model.load(directory: GradFixtures.directory(variant))
        let golden = try GradFixtures.golden(variant)
        let batch = try GradFixtures.batch(golden)
        let gradients = Qwen3Gradients(model: model)
        let backprop = Qwen3Backprop(model: model)
        backprop.step(batch, mode: .full(gradients), gradientScale: 0.5)
        backprop.step(batch, mode: .full(gradients), gradientScale: 1.5)
        let reference = try golden.tensor("grad.model.layers.0.self_attn.q_proj.weight")
        for i in 0..<reference.count { reference.data[i] *= 2 }
        XCTAssertLessThanOrEqual(relativeError(gradients.layers[0].qProj.widened(), reference), tolerance)
        gradients.zero()
        XCTAssertTrue(gradients.parameters.allSatisfy { p in p.grad.array.allSatisfy { $0 == 0 } })
        XCTAssertTrue(gradients.parameters.allSatisfy { p in p.value.shape == p.grad.shape })
    }

    func testFrozenModeGradientsReachTheModuleAndTheHiddenStateBelowIt() throws {
        for variant in GradFixtures.variants {
            guard let layer = try GradFixtures.frozenLayer(variant) else { continue }
            let model = try Qwen3Model.load(directory: GradFixtures.directory(variant))
            let golden = try GradFixtures.golden(variant)
            let batch = try GradFixtures.batch(golden)
            let module = RecordingModule(ResidualLinearModule(weight: try golden.tensor("frozen.module_weight").copy()))
            let backprop = Qwen3Backprop(model: model)
            let loss = backprop.step(batch, mode: .frozen(module: module, afterLayer: layer))

            try assertLossSum(loss.lossSum, "frozen.loss_sum", in: golden, variant)
            let checks: [(String, Tensor?)] = [
                ("module_weight", module.inner.weightGradient),
                ("module_output", module.outputGradient),
                ("hidden_after_layer", backprop.hiddenGradient),
            ]
            for (name, ours) in checks {
                try assertClose(ours, "frozen.grad." + name, in: golden, "\(variant) frozen \(name)")
            }
        }
    }

    /// bf16 compute in a frozen step on a BF16 checkpoint (the Qwen3 tests' untied-gqa-bf16, 2 rows of
    /// 39 tokens): the forward's and the backward's weight products take it, so the loss and the
    /// module's gradient move off float32 compute's, by what rounding the activations entering each
    /// product to 8 significant bits gives (measured: loss 6.4e-5, gradient 1.1e-2 relative; bounds
    /// 1e-3 and 5e-2).
    func testFrozenModeWithBF16ComputeStaysCloseToFloat32() throws {
        try XCTSkipUnless(Backend.hostHasBF16Compute, "this CPU has no AVX-512 BF16")
        let saved = Backend.compute
        defer { Backend.compute = saved }
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Qwen3Tests/Fixtures/untied-gqa-bf16")
        let model = try Qwen3Model.load(directory: directory)
        let V = model.config.vocabSize, D = model.config.hiddenSize
        var rng = SeededGenerator(seed: 3)
        let rows = (0..<2).map { _ in (0..<40).map { _ in Int32(rng.next() % UInt64(V)) } }
        let batch = TokenBatch(inputs: rows.map { Array($0.dropLast()) }, targets: rows.map { Array($0.dropFirst()) })
        let weight = Tensor(zeros: [D, D])
        for i in 0..<D * D { weight.data[i] = 0.02 * (Float(rng.next() % 2001) / 1000 - 1) }

        func step(_ compute: Backend.Compute) -> (loss: Double, gradient: [Float]) {
            Backend.compute = compute
            let module = ResidualLinearModule(weight: weight.copy())
            let loss = Qwen3Backprop(model: model).step(batch, mode: .frozen(module: module, afterLayer: 0))
            return (loss.lossSum, module.weightGradient.array)
        }
        let exact = step(.f32), bf16 = step(.bf16)
        let lossError = abs(bf16.loss - exact.loss) / abs(exact.loss)
        var difference = 0.0, norm = 0.0
        for (a, b) in zip(bf16.gradient, exact.gradient) {
            difference += Double(a - b) * Double(a - b)
            norm += Double(b) * Double(b)
        }
        let gradientError = (difference / norm).squareRoot()
        XCTAssertGreaterThan(gradientError, 1e-5, "bf16 compute changed nothing: did the products take it?")
        XCTAssertLessThan(gradientError, 5e-2)
        XCTAssertGreaterThan(lossError, 0)
        XCTAssertLessThan(lossError, 1e-3)
    }

    func testFrozenModeWithModulesAfterSeveralLayers() throws {
        let variant = "tied-gqa"
        let model = try Qwen3Model.load(directory: GradFixtures.directory(variant))
        let golden = try GradFixtures.golden(variant)
        let batch = try GradFixtures.batch(golden)
        let layers = try GradFixtures.multiLayers(variant)
        XCTAssertGreaterThan(layers.count, 1)
        let modules = try layers.map { layer in
            (afterLayer: layer, module: RecordingModule(ResidualLinearModule(
                weight: try golden.tensor("frozen_multi.module_weight.\(layer)").copy())))
        }
        let backprop = Qwen3Backprop(model: model)
        let loss = backprop.step(batch, mode: .frozenModules(modules.map { ($0.afterLayer, $0.module as TrainableModule) }))
        try assertLossSum(loss.lossSum, "frozen_multi.loss_sum", in: golden, variant)
        for (layer, module) in modules {
            let checks: [(String, Tensor?)] = [("module_weight", module.inner.weightGradient), ("module_output", module.outputGradient)]
            for (name, ours) in checks {
                try assertClose(ours, "frozen_multi.grad.\(name).\(layer)", in: golden, "module after layer \(layer): \(name)")
            }
        }
        try assertClose(backprop.hiddenGradient, "frozen_multi.grad.hidden_after_layer", in: golden, "hidden below the lowest module")
    }

    /// Recomputing each layer's activations in the backward gives the autograd gradients, and the
    /// very bits of the step that kept them, in full mode and with modules after several layers.
    func testRecomputedActivationsGiveTheSameGradients() throws {
        let variant = "tied-gqa"
        let model = try Qwen3Model.load(directory: GradFixtures.directory(variant))
        let golden = try GradFixtures.golden(variant)
        let batch = try GradFixtures.batch(golden)
        func full(recompute: Bool) -> (Double, [(String, [Float])]) {
            let gradients = Qwen3Gradients(model: model)
            let backprop = Qwen3Backprop(model: model)
            backprop.recompute = recompute
            let loss = backprop.step(batch, mode: .full(gradients))
            return (loss.lossSum, gradients.named.map { ($0.0, $0.1.array) })
        }
        let (keptLoss, kept) = full(recompute: false), (replayedLoss, replayed) = full(recompute: true)
        XCTAssertEqual(replayedLoss, keptLoss)
        for ((name, a), (_, b)) in zip(kept, replayed) { XCTAssertEqual(a, b, name) }
        try assertLossSum(replayedLoss, "loss_sum", in: golden, variant)

        let layers = try GradFixtures.multiLayers(variant)
        func frozen(recompute: Bool) throws -> [[Float]] {
            let modules = try layers.map { layer in
                (afterLayer: layer, module: ResidualLinearModule(weight: try golden.tensor("frozen_multi.module_weight.\(layer)").copy()))
            }
            let backprop = Qwen3Backprop(model: model)
            backprop.recompute = recompute
            backprop.step(batch, mode: .frozenModules(modules.map { ($0.afterLayer, $0.module as TrainableModule) }))
            if recompute {
                for (layer, module) in modules {
                    try assertClose(module.weightGradient, "frozen_multi.grad.module_weight.\(layer)", in: golden, "recomputed, after layer \(layer)")
                }
            }
            return modules.map(\.module.weightGradient.array) + [backprop.hiddenGradient!.array]
        }
        XCTAssertEqual(try frozen(recompute: true), try frozen(recompute: false))
    }

    /// Recomputing the attention weights from the softmax statistics (what long sequences do) gives
    /// the bits of the step that kept them, alone and with the activations recomputed too.
    func testRecomputedAttentionWeightsGiveTheSameGradients() throws {
        let variant = "tied-gqa"
        let model = try Qwen3Model.load(directory: GradFixtures.directory(variant))
        let golden = try GradFixtures.golden(variant)
        let batch = try GradFixtures.batch(golden)
        XCTAssertTrue(Qwen3Backprop.keepsAttentionWeights(config: model.config, batch: batch.batchSize, length: batch.sequenceLength))
        func full(keepWeights: Bool, recompute: Bool) -> (Double, [[Float]]) {
            let gradients = Qwen3Gradients(model: model)
            let backprop = Qwen3Backprop(model: model)
            backprop.keepAttentionWeights = keepWeights
            backprop.recompute = recompute
            let loss = backprop.step(batch, mode: .full(gradients))
            return (loss.lossSum, gradients.named.map(\.1.array))
        }
        let (keptLoss, kept) = full(keepWeights: true, recompute: false)
        for recompute in [false, true] {
            let (loss, gradients) = full(keepWeights: false, recompute: recompute)
            XCTAssertEqual(loss, keptLoss)
            XCTAssertEqual(gradients, kept, "recompute: \(recompute)")
        }
        try assertLossSum(keptLoss, "loss_sum", in: golden, variant)
    }

    func testFrozenStepIsRepeatableAndLeavesTheModelUnchanged() throws {
        let variant = "tied-gqa"
        let model = try Qwen3Model.load(directory: GradFixtures.directory(variant))
        let golden = try GradFixtures.golden(variant)
        let batch = try GradFixtures.batch(golden)
        let before = model.weights.named(model.config).map { ($0.0, $0.1.array) }
        let module = ResidualLinearModule(weight: Tensor(zeros: [model.config.hiddenSize, model.config.hiddenSize]))
        let backprop = Qwen3Backprop(model: model)
        let first = backprop.step(batch, mode: .frozen(module: module, afterLayer: 0))
        let gradient = module.weightGradient.copy()
        module.zeroGradients()
        let second = backprop.step(batch, mode: .frozen(module: module, afterLayer: 0))
        XCTAssertEqual(first.lossSum, second.lossSum)
        XCTAssertEqual(module.weightGradient.array, gradient.array)
        XCTAssertGreaterThan(gradient.array.map(abs).max() ?? 0, 0)
        for (name, values) in before {
            XCTAssertEqual(model.weights.named(model.config).first { $0.0 == name }!.1.array, values, name)
        }
        // A zero module is the identity: the loss is the plain model's (the full-mode loss).
        try assertLossSum(first.lossSum, "loss_sum", in: golden, variant)
    }

    /// The loss sum against the golden scalar `key`, within 1e-5 relative.
    func assertLossSum(_ ours: Double, _ key: String, in golden: SafeTensorsFile, _ label: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = Double(try golden.tensor(key).data[0])
        XCTAssertEqual(ours, expected, accuracy: 1e-5 * abs(expected), "\(label): \(key)", file: file, line: line)
    }

    /// A gradient against the golden tensor `key`: present, as many elements, relative error within `tolerance`.
    func assertClose(_ ours: Tensor?, _ key: String, in golden: SafeTensorsFile, _ label: String,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = try golden.tensor(key)
        guard let ours else { return XCTFail("\(label): no gradient", file: file, line: line) }
        guard ours.count == reference.count else {
            return XCTFail("\(label): \(ours.count) elements, the reference has \(reference.count)", file: file, line: line)
        }
        let error = relativeError(ours, reference)
        XCTAssertLessThanOrEqual(error, tolerance, "\(label): relative error \(error)", file: file, line: line)
    }
}

/// Wraps a module and keeps the gradient it was handed (d loss / d module output).
final class RecordingModule: TrainableModule {
    let inner: ResidualLinearModule
    var outputGradient: Tensor?
    init(_ inner: ResidualLinearModule) { self.inner = inner }
    var parameters: [(name: String, value: Tensor, grad: Tensor)] { inner.parameters }
    func forward(_ hidden: Tensor, batch: TokenBatch) { inner.forward(hidden, batch: batch) }
    func backward(_ gradient: Tensor, batch: TokenBatch) {
        outputGradient = gradient.copy()
        inner.backward(gradient, batch: batch)
    }
}
