import Compute
import Foundation
import Qwen3
import Training

/// One full-mode training step (forward, backward of every weight, clipping, AdamW) over a batch of
/// B × T tokens, timed over `--steps` steps after one warm-up step.
func benchTrainFull(_ options: [String: String]) throws {
    guard let path = options["model"] else { throw BenchError("--model DIR is required") }
    let batch = Int(options["batch"] ?? "4")!, length = Int(options["tokens"] ?? "128")!
    let steps = Int(options["steps"] ?? "5")!
    let model = try Qwen3Model.load(directory: URL(fileURLWithPath: path))
    let training = Qwen3FullTraining(model: model)
    let adamw = AdamW(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1)
    var rng = SeededGenerator(seed: 1)
    let V = UInt64(model.config.vocabSize)
    let rows = (0..<batch).map { _ in (0...length).map { _ in Int32(rng.next() % V) } }
    let inputs = rows.map { Array($0.prefix(length)) }, targets = rows.map { Array($0.dropFirst()) }

    // Seconds spent in forward + backward, and in scaling, clipping and AdamW.
    var backpropTime = 0.0, optimizerTime = 0.0
    func step() -> Double {
        var loss = 0.0, tokens = 0
        backpropTime += seconds {
            training.zeroGradients()
            (loss, tokens) = training.accumulateGradients(inputs: inputs, targets: targets, gradientScale: 1 / Float(batch * length))
        }
        optimizerTime += seconds {
            let (_, clip) = GradientClipping.coefficient(training.parameters.map(\.grad), maxNorm: 1.0)
            adamw.update(training.parameters, lr: 1e-4, gradientScale: clip)
        }
        return loss / Double(tokens)
    }
    _ = step()  // warm-up: allocations, page faults
    backpropTime = 0; optimizerTime = 0
    var loss = 0.0
    let time = seconds { for _ in 0..<steps { loss = step() } }
    if let out = options["save-model"] { try Qwen3Export.save(model, to: URL(fileURLWithPath: out)) }
    printJSON([
        "impl": "explicitlm", "tokens_per_s": Double(batch * length * steps) / time,
        "step_s": time / Double(steps),
        "backprop_s": backpropTime / Double(steps), "optimizer_s": optimizerTime / Double(steps), "last_loss": loss, "peak_rss_bytes": peakResidentBytes(),
    ])
}
