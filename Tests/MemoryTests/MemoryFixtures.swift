import Compute
import Foundation
import Memory
import Qwen3
import SafeTensors
import Training

/// The tiny backbone, memory checkpoints and PyTorch goldens made by scripts/make_memory_fixtures.py.
enum MemoryFixtures {
    static let cases = ["cross-attention-full", "cross-attention-rank4", "swiglu-full", "swiglu-rank4"]
    static let modes = ["train", "eval"]

    static func url(_ parts: String...) -> URL {
        parts.reduce(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")) {
            $0.appendingPathComponent($1)
        }
    }

    static func backbone() throws -> Qwen3Model { try Qwen3Model.load(directory: url("backbone")) }

    static func memory(_ name: String, backbone: Qwen3Model) throws -> MemoryModel {
        try MemoryModel.load(url: url(name, "memory.safetensors"), backbone: backbone)
    }

    /// Runs `body` for every case with the backbone and the case's memory and goldens.
    static func forEachCase(_ body: (String, Qwen3Model, MemoryModel, Case) throws -> Void) throws {
        let backbone = try backbone()
        for name in cases { try body(name, backbone, try memory(name, backbone: backbone), try Case(name)) }
    }

    /// One case's goldens and the batch, candidates and noise they were made from.
    struct Case {
        let golden: SafeTensorsFile
        let batch: TokenBatch
        let lengths: [Int]
        let samples: [MemorySample]
        let noise: Tensor
        let similarityWeight: Float

        init(_ name: String) throws {
            golden = try SafeTensorsFile(url: url(name, "golden.safetensors"))
            let shape = golden.entry("input_ids")!.shape
            let (B, T) = (shape[0], shape[1])
            let ids = try golden.int32s("input_ids"), targets = try golden.int32s("targets")
            let batch = TokenBatch(inputs: (0..<B).map { Array(ids[($0 * T)..<(($0 + 1) * T)]) },
                                   targets: (0..<B).map { Array(targets[($0 * T)..<(($0 + 1) * T)]) })
            self.batch = batch
            // Rows are right-padded with id 0 after their last real token.
            lengths = batch.inputs.map { row in (row.lastIndex { $0 != 0 } ?? -1) + 1 }
            let cshape = golden.entry("candidate_tokens")!.shape
            let (C, L) = (cshape[1], cshape[2])
            let tokens = try golden.int32s("candidate_tokens"), clen = try golden.int32s("candidate_lengths")
            let counts = try golden.int32s("candidate_counts"), prompts = try golden.int32s("prompt_lengths")
            let scores = try golden.tensor("candidate_scores")
            let golden = golden
            samples = (0..<B).map { b in
                MemorySample(
                    candidates: (0..<Int(counts[b])).map { j in
                        MemoryCandidate(row: j, tokens: Array(tokens[((b * C + j) * L)..<((b * C + j + 1) * L)]),
                                        length: Int(clen[b * C + j]), score: scores.data[b * C + j])
                    },
                    promptLength: Int(prompts[b]), answerMask: batch.targets[b].map { $0 != CrossEntropy.ignoreIndex })
            }
            noise = try golden.tensor("gumbel_noise").copy()
            let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: url(name, "case.json"))) as! [String: Any]
            similarityWeight = Float(spec["similarity_weight"] as! Double)
        }

        /// Row b's tokens without its pads.
        func ids(row b: Int) -> [Int32] { Array(batch.inputs[b].prefix(lengths[b])) }

        var answerTokens: Int { batch.targets.joined().filter { $0 != CrossEntropy.ignoreIndex }.count }

        /// The batch's context: Gumbel noise in train mode, argmax in eval mode.
        func context(_ mode: String, memoryLayers: Int) -> MemoryBatchContext {
            MemoryBatchContext(samples: samples, selection: mode == "train" ? .gumbel(GumbelNoise(table: noise)) : .argmax,
                               similarityScale: similarityWeight / Float(memoryLayers * answerTokens))
        }

        /// Row b's sample and noise alone, for the inference path (one sequence).
        func rowContext(_ mode: String, row b: Int) -> MemoryBatchContext {
            let (M, B, T, C) = (noise.shape[0], noise.shape[1], noise.shape[2], noise.shape[3])
            let slice = Tensor(zeros: [M, 1, T, C])
            for k in 0..<M { (slice.data + k * T * C).update(from: noise.data + (k * B + b) * T * C, count: T * C) }
            return MemoryBatchContext(samples: [samples[b]], selection: mode == "train" ? .gumbel(GumbelNoise(table: slice)) : .argmax)
        }
    }
}

/// ‖a − b‖ / ‖b‖ over whole tensors, in Double.
func relativeError(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
    var diff = 0.0, norm = 0.0
    for i in 0..<count {
        let x = Double(a[i]), y = Double(b[i])
        diff += (x - y) * (x - y)
        norm += y * y
    }
    return (diff / max(norm, 1e-300)).squareRoot()
}

func maxAbsDifference(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var worst: Float = 0
    for i in 0..<count {
        let d = abs(a[i] - b[i])
        if !(d <= worst) { worst = d }
    }
    return worst
}
