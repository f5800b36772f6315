import Compute
import Foundation

/// Global-norm clipping as `torch.nn.utils.clip_grad_norm_(params, maxNorm)`:
/// total = ‖(‖g₁‖, ‖g₂‖, …)‖₂; coef = maxNorm / (total + 1e-6); gradients × coef when coef < 1.
public enum GradientClipping {
    /// Clips in place and returns the total norm before clipping.
    @discardableResult
    public static func clip(_ gradients: [Tensor], maxNorm: Double) -> Double {
        let (total, coef) = coefficient(gradients, maxNorm: maxNorm)
        if coef < 1 {
            for g in gradients { scale(g, by: coef) }
        }
        return total
    }

    /// The total norm and the factor clipping would apply (1 when the norm is within `maxNorm`),
    /// without touching the gradients: the optimizer can apply it as it reads them (one pass fewer).
    public static func coefficient(_ gradients: [Tensor], maxNorm: Double) -> (norm: Double, coefficient: Float) {
        let total = globalNorm(gradients)
        return (total, min(1, Float(maxNorm) / (Float(total) + 1e-6)))
    }

    /// The 2-norm of all gradients together (each tensor's norm in float, as torch stacks them).
    public static func globalNorm(_ gradients: [Tensor]) -> Double {
        var sum = 0.0
        for g in gradients {
            let n = Double(Float(sumOfSquares(g).squareRoot()))
            sum += n * n
        }
        return Double(Float(sum.squareRoot()))
    }

    /// Σ g² in double, over chunks in parallel (the chunking is fixed, so the result is deterministic).
    static func sumOfSquares(_ g: Tensor) -> Double {
        let chunk = 1 << 14
        let chunks = (g.count + chunk - 1) / chunk
        var partial = [Double](repeating: 0, count: max(chunks, 1))
        let d = g.data
        partial.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            Parallel.forEach(chunks, grain: 4) { c in
                let lo = c * chunk, hi = min(g.count, lo + chunk)
                var s = 0.0
                var i = lo
                while i + 16 <= hi {
                    let v = Vector.load(d + i)
                    s += Double((v * v).sum())
                    i += 16
                }
                while i < hi { s += Double(d[i] * d[i]); i += 1 }
                out[c] = s
            }
        }
        return partial.reduce(0, +)
    }

    /// g ← g · factor.
    public static func scale(_ g: Tensor, by factor: Float) {
        let d = g.data
        Parallel.forChunks(g.count, grain: 1 << 15) { r in for i in r { d[i] *= factor } }
    }
}
