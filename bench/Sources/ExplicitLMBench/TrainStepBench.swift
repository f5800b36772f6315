import Compute
import Foundation
import Qwen3
import Training

/// One frozen-mode training step (forward + backward of Σ token cross-entropy) on B × T random tokens:
/// every weight frozen, a residual linear module after decoder layer `--layer`, gradients from the loss
/// down to it. The full mode (every weight, with AdamW) is `train-full`. Prints the step's peak RSS
/// too, so `--keep-attention-weights 1|0` shows what recomputing the attention weights saves.
func benchTrainStep(_ options: [String: String]) throws {
    guard let path = options["model"] else { throw BenchError("--model DIR is required") }
    let B = Int(options["batch"] ?? "1")!, T = Int(options["tokens"] ?? "256")!
    let steps = Int(options["steps"] ?? "2")!
    let model = try Qwen3Model.load(directory: URL(fileURLWithPath: path))
    let c = model.config
    var rng = SeededGenerator(seed: 1)
    var inputs: [[Int32]] = [], targets: [[Int32]] = []
    for _ in 0..<B {
        let seq = (0...T).map { _ in Int32(rng.next() % UInt64(c.vocabSize)) }
        inputs.append(Array(seq[..<T]))
        targets.append(Array(seq[1...]))
    }
    let batch = TokenBatch(inputs: inputs, targets: targets)
    let backprop = Qwen3Backprop(model: model)
    // --keep-attention-weights 1 or 0; by default as Qwen3Backprop.keepsAttentionWeights decides.
    backprop.keepAttentionWeights = options["keep-attention-weights"].map { $0 == "1" }

    let layer = Int(options["layer"] ?? "\(c.numHiddenLayers / 2)")!
    let D = c.hiddenSize
    let weight = Tensor(zeros: [D, D])
    for i in 0..<weight.count { weight.data[i] = Float(Int(rng.next() % 2001) - 1000) * 1e-5 }
    let module = ResidualLinearModule(weight: weight)
    let mode = BackpropMode.frozen(module: module, afterLayer: layer)

    var best = Double.infinity, bestCPU = Double.infinity, loss = 0.0
    for s in 0...steps {  // step 0 warms up (buffers, page faults of the weights)
        let cpu = cpuSeconds()
        let time = seconds {
            module.zeroGradients()
            loss = backprop.step(batch, mode: mode).lossSum
        }
        if s > 0 { best = min(best, time); bestCPU = min(bestCPU, cpuSeconds() - cpu) }
    }
    printJSON([
        "impl": "explicitlm", "mode": "frozen", "loss_per_token": loss / Double(B * T),
        "step_s": best, "step_cpu_s": bestCPU, "tokens_per_s": Double(B * T) / best, "peak_rss_bytes": peakResidentBytes(),
    ])
}
