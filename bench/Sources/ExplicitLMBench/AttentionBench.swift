import Compute
import Foundation

/// Attention alone: forward (with probs) and backward of the Qwen3-0.6B shape (16 heads, 8 kv heads,
/// head_dim 128) over T tokens, times the layer count; best of --repeats. No reference: for
/// comparing our kernels across commits.
func benchAttention(_ options: [String: String]) throws {
    let T = Int(options["tokens"] ?? "256")!, layers = Int(options["layers"] ?? "28")!
    let repeats = Int(options["repeats"] ?? "3")!
    let Hq = 16, Hkv = 8, d = 128
    var rng = SeededGenerator(seed: 1)
    func random(_ n: Int) -> Tensor { Tensor(shape: [n], values: (0..<n).map { _ in Float(rng.next() % 1000) / 1000 - 0.5 }) }
    let q = random(T * Hq * d), k = random(T * Hkv * d), v = random(T * Hkv * d), dOut = random(T * Hq * d)
    let out = Tensor(zeros: [T * Hq * d]), probs = Tensor(zeros: [Hq * T * T]), scratch = Tensor(zeros: [T * T])
    let dq = Tensor(zeros: [T * Hq * d]), dk = Tensor(zeros: [T * Hkv * d]), dv = Tensor(zeros: [T * Hkv * d])
    var forward = Double.infinity, backward = Double.infinity
    for _ in 0..<repeats {
        forward = min(forward, seconds {
            for _ in 0..<layers {
                Attention.forward(out.data, q: q.data, k: k.data, v: v.data, probs: probs.data, scratch: scratch.data,
                                  queries: T, keys: T, heads: Hq, kvHeads: Hkv, headDim: d)
            }
        })
        backward = min(backward, seconds {
            for _ in 0..<layers {
                Attention.backward(dq: dq.data, dk: dk.data, dv: dv.data, dOut: dOut.data, q: q.data, k: k.data, v: v.data,
                                   weights: .kept(probs.data), scratch: scratch.data, queries: T, keys: T, heads: Hq, kvHeads: Hkv, headDim: d)
            }
        })
    }
    printJSON(["impl": "explicitlm", "forward_s": forward, "backward_s": backward, "checksum": Double(out.array.reduce(0, +))])
}
