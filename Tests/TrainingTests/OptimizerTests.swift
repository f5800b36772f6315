import Compute
import Foundation
import SafeTensors
import Training
import XCTest

/// AdamW, clipping and the schedule against torch / transformers (scripts/make_optim_fixtures.py).
final class OptimizerTests: XCTestCase {
    let names = ["w", "norm", "proj"]

    /// Three AdamW steps with changing gradients and learning rates, decay on 2-D tensors only.
    /// Tolerance: 1e-6 relative (float32 rounding of the same formula).
    func testAdamWMatchesTorch() throws {
        let f = try OptimFixtures.file()
        let values = try names.map { try f.tensor("adamw.init.\($0)").copy() }
        let grads = values.map { Tensor(zeros: $0.shape) }
        let params: [NamedParameter] = (0..<3).map { (names[$0], values[$0], grads[$0]) }
        let adamw = AdamW(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1)
        for (k, lr) in try f.doubles("adamw.lr").enumerated() {
            for (i, n) in names.enumerated() {
                let g = try f.tensor("adamw.grad\(k).\(n)")
                grads[i].data.update(from: g.data, count: g.count)
            }
            adamw.update(params, lr: lr)
            for (i, n) in names.enumerated() {
                assertClose(values[i].array, try f.tensor("adamw.after\(k).\(n)").array, rel: 1e-6, "step \(k) \(n)")
            }
        }
        XCTAssertEqual(adamw.step, 3)
        for n in names {
            assertClose(adamw.expAvg[n]!.array, try f.tensor("adamw.exp_avg.\(n)").array, rel: 1e-6, "exp_avg \(n)")
            assertClose(adamw.expAvgSq[n]!.array, try f.tensor("adamw.exp_avg_sq.\(n)").array, rel: 1e-6, "exp_avg_sq \(n)")
        }
    }

    func testDecayGroups() {
        XCTAssertTrue(AdamW.decays(Tensor(zeros: [3, 4])))
        XCTAssertFalse(AdamW.decays(Tensor(zeros: [4])))
        // With a zero gradient a 1-D tensor is untouched, a 2-D one shrinks by lr·wd.
        let w = Tensor(shape: [1, 2], values: [1, 2]), n = Tensor(shape: [2], values: [1, 2])
        AdamW(weightDecay: 0.5).update([("w", w, Tensor(zeros: [1, 2])), ("n", n, Tensor(zeros: [2]))], lr: 0.1)
        XCTAssertEqual(n.array, [1, 2])
        XCTAssertEqual(w.array, [0.95, 1.9])
    }

    /// clip_grad_norm_: case 0 clips, case 1 leaves the gradients alone. Tolerance 1e-6 relative.
    func testClippingMatchesTorch() throws {
        let f = try OptimFixtures.file()
        for c in 0..<2 {
            let grads = try names.map { try f.tensor("clip\(c).grad.\($0)").copy() }
            let norm = GradientClipping.clip(grads, maxNorm: Double(try f.tensor("clip\(c).max").array[0]))
            let expected = try f.tensor("clip\(c).norm").array[0]
            XCTAssertEqual(Float(norm), expected, accuracy: expected * 1e-6, "case \(c) norm")
            for (i, n) in names.enumerated() {
                assertClose(grads[i].array, try f.tensor("clip\(c).clipped.\(n)").array, rel: 1e-6, "case \(c) \(n)")
            }
        }
    }

    /// get_cosine_schedule_with_warmup with ceil(ratio × total) warmup steps, every step. 1e-12 relative.
    func testScheduleMatchesTransformers() throws {
        let f = try OptimFixtures.file()
        for c in 0..<5 {
            let spec = try f.doubles("schedule\(c).spec")
            let s = CosineSchedule(baseLearningRate: spec[0], warmupRatio: spec[1], totalSteps: Int(spec[2]))
            for (step, expected) in try f.doubles("schedule\(c)").enumerated() {
                XCTAssertEqual(s.learningRate(step), expected, accuracy: abs(expected) * 1e-12 + 1e-18, "case \(c) step \(step)")
            }
        }
        // 100 × 0.07 is 7.000000000000001 in double, so the Trainer's ceil gives 8 (case 4 checks the values).
        XCTAssertEqual(CosineSchedule(baseLearningRate: 1, warmupRatio: 0.07, totalSteps: 100).warmupSteps, 8)
        XCTAssertEqual(CosineSchedule(baseLearningRate: 1, warmupRatio: 0.1, totalSteps: 30).warmupSteps, 3)
    }
}
