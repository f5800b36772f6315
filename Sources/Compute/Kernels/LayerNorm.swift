import Foundation

/// LayerNorm over the last dimension: out = (x − mean) / sqrt(var + eps) · weight + bias, with the
/// biased variance, in float32 as torch.nn.LayerNorm.
public enum LayerNorm {
    /// `out` may alias `inp`.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>, rows: Int, dim: Int, eps: Float
    ) {
        Parallel.forChunks(rows, grain: max(1, 16_384 / max(dim, 1))) { range in
            for r in range {
                let x = inp + r * dim, y = out + r * dim
                let mean = Vector.sum(x, dim) / Float(dim)
                // Two passes: the variance of centred values, so large means do not cancel digits.
                var sq: Float = 0
                for i in 0..<dim { let c = x[i] - mean; sq += c * c }
                let s = 1 / (sq / Float(dim) + eps).squareRoot()
                for i in 0..<dim { y[i] = (x[i] - mean) * s * weight[i] + bias[i] }
            }
        }
    }
}
