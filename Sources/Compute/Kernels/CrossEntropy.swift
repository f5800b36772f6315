import Foundation

/// Token cross-entropy from logits, with an ignore mask: rows whose target is −100 (`ignoreIndex`)
/// carry no loss and get a zero gradient. Returns the SUM of the token losses and how many tokens
/// counted, so that the caller can normalise over a whole optimizer step (all its micro batches).
public enum CrossEntropy {
    public static let ignoreIndex: Int32 = -100

    /// loss_r = logsumexp(z_r) − z_r[target_r], summed in Double. When `dLogits` is given it receives
    /// (it is written, not accumulated) scale · (softmax(z_r) − onehot(target_r)) per row; it may
    /// alias `logits`, which saves a second [rows, vocab] buffer for a large vocabulary.
    public static func forwardBackward(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, dLogits: UnsafeMutablePointer<Float>?,
        rows: Int, vocab V: Int, scale: Float = 1
    ) -> (lossSum: Double, tokens: Int) {
        let losses = UnsafeMutablePointer<Double>.allocate(capacity: max(rows, 1))
        defer { losses.deallocate() }
        Parallel.forChunks(rows, grain: 1) { range in
            for r in range {
                let z = logits + r * V
                let target = targets[r]
                guard target != ignoreIndex else {
                    losses[r] = 0
                    if let dLogits { (dLogits + r * V).update(repeating: 0, count: V) }
                    continue
                }
                precondition(target >= 0 && Int(target) < V, "target \(target) is outside the vocabulary of \(V)")
                let logSum = logSumExp(z, V)
                losses[r] = Double(logSum - z[Int(target)])
                if let dLogits {
                    let g = dLogits + r * V
                    let zt = z[Int(target)]  // read before g (which may alias z) is written
                    expShifted(z, by: logSum, scale: scale, into: g, V)
                    g[Int(target)] = scale * (expf(zt - logSum) - 1)
                }
            }
        }
        var total = 0.0, count = 0
        for r in 0..<rows where targets[r] != ignoreIndex {
            total += losses[r]
            count += 1
        }
        return (total, count)
    }

    /// log Σ exp(z[i]), shifted by the maximum for range.
    static func logSumExp(_ z: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = -Float.infinity
        for i in 0..<n { m = max(m, z[i]) }
        let shift = Vector.V(repeating: m)
        var acc = Vector.V(repeating: 0)
        var i = 0
        while i + 16 <= n {
            acc += Vector.exp(Vector.load(z + i) - shift)
            i += 16
        }
        var sum = acc.sum()
        while i < n { sum += expf(z[i] - m); i += 1 }
        return m + logf(sum)
    }

    /// out[i] = scale · exp(z[i] − shift); `out` may alias `z`.
    static func expShifted(_ z: UnsafePointer<Float>, by shift: Float, scale: Float, into out: UnsafeMutablePointer<Float>, _ n: Int) {
        let s = Vector.V(repeating: shift), k = Vector.V(repeating: scale)
        var i = 0
        while i + 16 <= n {
            Vector.store(k * Vector.exp(Vector.load(z + i) - s), out + i)
            i += 16
        }
        while i < n { out[i] = scale * expf(z[i] - shift); i += 1 }
    }
}
