import Foundation

/// RMSNorm over the last dimension: out = x / sqrt(mean(x²) + eps) · weight, in float32 as
/// transformers' Qwen3RMSNorm. Also used per head for the q/k norms (rows = tokens × heads).
public enum RMSNorm {
    /// `rstd`, when given, receives 1/sqrt(mean(x²)+eps) per row for the backward pass.
    /// `out` may alias `inp`.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rstd: UnsafeMutablePointer<Float>? = nil, rows: Int, dim: Int, eps: Float
    ) {
        Parallel.forChunks(rows, grain: max(1, 16_384 / max(dim, 1))) { range in
            for r in range {
                let x = inp + r * dim, y = out + r * dim
                let s = 1 / (Vector.sumOfSquares(x, dim) / Float(dim) + eps).squareRoot()
                rstd?[r] = s
                for i in 0..<dim { y[i] = weight[i] * (x[i] * s) }
            }
        }
    }
}
