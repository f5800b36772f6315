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
            let expected = Double(try golden.tensor("loss_sum").data[0])
            XCTAssertEqual(loss.lossSum, expected, accuracy: 1e-5 * expected, variant)

            let goldenNames = Set(golden.names.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) })
            let ours = gradients.named
            XCTAssertEqual(Set(ours.map(\.0)), goldenNames, "\(variant): the gradients cover every weight once")
            XCTAssertEqual(gradients.parameters.count, ours.count)
            for (name, grad) in ours where goldenNames.contains(name) {
                let reference = try golden.tensor("grad." + name)
                XCTAssertEqual(grad.shape, reference.shape, "\(variant) \(name)")
                let error = relativeError(grad, reference)
                XCTAssertLessThanOrEqual(error, tolerance, "\(variant) \(name): relative error \(error)")
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
        let expected = Double(try golden.tensor("loss_sum").data[0])
        XCTAssertEqual(loss.lossSum, expected, accuracy: 1e-5 * expected)
        for (name, grad) in gradients.named {
            let error = relativeError(grad, try golden.tensor("grad." + name))
            XCTAssertLessThanOrEqual(error, tolerance, "\(name): relative error \(error)")
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
        XCTAssertLessThanOrEqual(relativeError(gradients.layers[0].qProj, reference), tolerance)
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

            let expected = Double(try golden.tensor("frozen.loss_sum").data[0])
            XCTAssertEqual(loss.lossSum, expected, accuracy: 1e-5 * expected, variant)
            let checks: [(String, Tensor?)] = [
                ("module_weight", module.inner.weightGradient),
                ("module_output", module.outputGradient),
                ("hidden_after_layer", backprop.hiddenGradient),
            ]
            for (name, ours) in checks {
                let reference = try golden.tensor("frozen.grad." + name)
                guard let ours else { XCTFail("\(variant) \(name): no gradient"); continue }
                XCTAssertEqual(ours.count, reference.count, "\(variant) \(name)")
                let error = relativeError(ours, reference)
                XCTAssertLessThanOrEqual(error, tolerance, "\(variant) frozen \(name): relative error \(error)")
            }
        }
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
        let expected = Double(try golden.tensor("frozen_multi.loss_sum").data[0])
        XCTAssertEqual(loss.lossSum, expected, accuracy: 1e-5 * expected)
        for (layer, module) in modules {
            for (name, ours) in [("module_weight", module.inner.weightGradient), ("module_output", module.outputGradient!)] {
                let error = relativeError(ours, try golden.tensor("frozen_multi.grad.\(name).\(layer)"))
                XCTAssertLessThanOrEqual(error, tolerance, "module after layer \(layer): \(name) relative error \(error)")
            }
        }
        let error = relativeError(backprop.hiddenGradient!, try golden.tensor("frozen_multi.grad.hidden_after_layer"))
        XCTAssertLessThanOrEqual(error, tolerance, "hidden below the lowest module: relative error \(error)")
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
        XCTAssertEqual(first.lossSum, Double(try golden.tensor("loss_sum").data[0]), accuracy: 1e-5 * first.lossSum)
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
