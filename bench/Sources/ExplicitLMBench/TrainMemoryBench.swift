import Compute
import Foundation
import Memory
import Qwen3
import Training

/// One memory-training step as `LanguageModelStage` and `MemoryTrainer` take it (method.md §4–§6,
/// §8): the frozen backbone from --model with the memory step after every decoder layer (the method's
/// defaults: cross_attention, 8 heads of 64, rank 128, L_k 16), C = --candidates random entries of L_k
/// random tokens with random scores, B × T random tokens of which the first --prompt are the prompt
/// and the rest the answer; straight-through Gumbel selection, loss = mean answer cross-entropy +
/// 0.1 · L_sim, backward to the memory, clipping at 1 and AdamW over `layerParameters`. Timed per
/// step after one warm-up step; the best of --steps.
func benchTrainMemory(_ options: [String: String]) throws {
    guard let path = options["model"] else { throw BenchError("--model DIR is required") }
    let B = Int(options["batch"] ?? "1")!, T = Int(options["tokens"] ?? "256")!, prompt = Int(options["prompt"] ?? "200")!
    let steps = Int(options["steps"] ?? "2")!
    guard prompt < T else { throw BenchError("--prompt must leave answer tokens in --tokens") }
    let backbone = try Qwen3Model.load(directory: URL(fileURLWithPath: path))
    let V = UInt64(backbone.config.vocabSize)
    // --recompute 1 or 0; by default as memory training decides (Qwen3Backprop.shouldRecompute).
    let recompute = options["recompute"].map { $0 == "1" } ?? Qwen3Backprop.shouldRecompute(config: backbone.config, batch: B, length: T)
    var config = MemoryConfig()
    config.numCandidates = Int(options["candidates"] ?? "16")!
    let memory = try MemoryModel(config: config, backbone: backbone)
    memory.initialize(seed: 2)
    var rng = SeededGenerator(seed: 1)
    // As after some training: o_proj's zero-initialised factor moved, so every gradient is non-zero.
    for p in memory.layerParameters where p.name.hasSuffix("o_proj.b") {
        let scale = 1 / Double(p.value.shape[1]).squareRoot()
        for i in 0..<p.value.count { p.value.data[i] = Float(rng.normal() * scale) }
    }
    let training = MemoryTrainingConfig(stage: .memory)  // lr, weight decay, clipping, similarity coefficient

    var inputs: [[Int32]] = [], targets: [[Int32]] = [], samples: [MemorySample] = []
    for _ in 0..<B {
        let seq = (0...T).map { _ in Int32(rng.next() % V) }
        inputs.append(Array(seq[..<T]))
        targets.append((0..<T).map { $0 < prompt ? CrossEntropy.ignoreIndex : seq[$0 + 1] })
        let candidates = (0..<config.numCandidates).map { j in
            MemoryCandidate(row: j, tokens: (0..<config.knowledgeLength).map { _ in Int32(rng.next() % V) },
                            length: config.knowledgeLength, score: Float(rng.unit()))
        }
        samples.append(MemorySample(candidates: candidates, promptLength: prompt, answerMask: (0..<T).map { $0 >= prompt }))
    }
    let batch = TokenBatch(inputs: inputs, targets: targets)
    let answerTokens = B * (T - prompt)
    let parameters = memory.layerParameters
    let optimizer = AdamW(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: training.weightDecay)

    var best = Double.infinity, bestCPU = Double.infinity, bestBackprop = Double.infinity, loss = 0.0
    for s in 0...steps {  // step 0 warms up (page faults of the weights, the allocator)
        let cpu = cpuSeconds()
        var backprop = 0.0
        let time = try seconds {
            for p in parameters { p.grad.fill(0) }
            let noise = GumbelNoise(generator: rng)
            let context = MemoryBatchContext(samples: samples, selection: .gumbel(noise),
                                             similarityScale: Float(training.similarityLossCoef) / Float(memory.layers.count * answerTokens))
            let mode = try memory.backpropMode(context, batch: batch)
            backprop = seconds {
                let backprop = Qwen3Backprop(model: backbone)
                backprop.recompute = recompute
                loss = backprop.step(batch, mode: mode, gradientScale: 1 / Float(answerTokens)).lossSum
            }
            rng = noise.generatorState!
            let (_, clip) = GradientClipping.coefficient(parameters.map(\.grad), maxNorm: training.gradClip)
            optimizer.update(parameters, lr: training.learningRate, gradientScale: clip)
        }
        if s > 0 {
            best = min(best, time); bestCPU = min(bestCPU, cpuSeconds() - cpu); bestBackprop = min(bestBackprop, backprop)
        }
    }
    printJSON([
        "impl": "explicitlm", "mode": "train-memory", "loss_per_token": loss / Double(answerTokens), "recompute": recompute,
        "step_s": best, "step_cpu_s": bestCPU, "backprop_s": bestBackprop, "tokens_per_s": Double(B * T) / best,
        "memory_parameters": parameters.reduce(0) { $0 + $1.value.count }, "peak_rss_bytes": peakResidentBytes(),
    ])
}
