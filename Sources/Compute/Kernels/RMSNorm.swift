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

    /// With y = w ⊙ x·s and s = rstd: dx += s·(w ⊙ dy) − s³/D · x · Σ(w ⊙ dy ⊙ x), and when `dWeight`
    /// is given dWeight += Σ_rows dy ⊙ x·s. dx is computed over rows, dWeight over columns, so each
    /// output is written by one thread. `dInp` must not alias `dOut`.
    public static func backward(
        dInp: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
        inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, dim: Int
    ) {
        let invDim = 1 / Float(dim)
        Parallel.forChunks(rows, grain: max(1, 16_384 / max(dim, 1))) { range in
            for r in range {
                let x = inp + r * dim, dy = dOut + r * dim, dx = dInp + r * dim
                let s = rstd[r]
                var dot: Float = 0
                for i in 0..<dim { dot += weight[i] * dy[i] * x[i] }
                let c = s * s * s * invDim * dot
                for i in 0..<dim { dx[i] += s * weight[i] * dy[i] - c * x[i] }
            }
        }
        guard let dWeight else { return }
        Parallel.forChunks(dim, grain: 64) { columns in
            for r in 0..<rows {
                let x = inp + r * dim, dy = dOut + r * dim, s = rstd[r]
                for i in columns { dWeight[i] += dy[i] * x[i] * s }
            }
        }
    }
}
