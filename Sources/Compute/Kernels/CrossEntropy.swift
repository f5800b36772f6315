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
                var m = -Float.infinity
                for i in 0..<V { m = max(m, z[i]) }
                var sum: Float = 0
                for i in 0..<V { sum += expf(z[i] - m) }
                let logSum = m + logf(sum)
                losses[r] = Double(logSum - z[Int(target)])
                if let dLogits {
                    let g = dLogits + r * V
                    for i in 0..<V { g[i] = scale * expf(z[i] - logSum) }
                    g[Int(target)] -= scale
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
}
