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

    /// Backward from the input `inp` (mean and 1/std recomputed): accumulates dInp, dWeight and
    /// dBias. With x̂ = (x − mean)·s and g = dOut ⊙ weight: dx += s·(g − mean(g) − x̂·mean(g ⊙ x̂)),
    /// dWeight += Σ_rows dOut ⊙ x̂, dBias += Σ_rows dOut. Rows are split over the workers for dInp and
    /// columns for dWeight/dBias, so every output has one writer.
    public static func backward(
        dInp: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, dim: Int, eps: Float
    ) {
        let stats = UnsafeMutablePointer<Float>.allocate(capacity: 2 * max(rows, 1))
        defer { stats.deallocate() }
        Parallel.forChunks(rows, grain: max(1, 16_384 / max(dim, 1))) { range in
            for r in range {
                let x = inp + r * dim, dy = dOut + r * dim, dx = dInp + r * dim
                let mean = Vector.sum(x, dim) / Float(dim)
                var sq: Float = 0
                for i in 0..<dim { let c = x[i] - mean; sq += c * c }
                let s = 1 / (sq / Float(dim) + eps).squareRoot()
                stats[2 * r] = mean; stats[2 * r + 1] = s
                var meanG: Float = 0, meanGX: Float = 0
                for i in 0..<dim {
                    let g = dy[i] * weight[i]
                    meanG += g
                    meanGX += g * (x[i] - mean) * s
                }
                meanG /= Float(dim); meanGX /= Float(dim)
                for i in 0..<dim {
                    let xhat = (x[i] - mean) * s
                    dx[i] += s * (dy[i] * weight[i] - meanG - xhat * meanGX)
                }
            }
        }
        Parallel.forChunks(dim, grain: 64) { columns in
            for r in 0..<rows {
                let x = inp + r * dim, dy = dOut + r * dim
                let mean = stats[2 * r], s = stats[2 * r + 1]
                for i in columns {
                    dWeight[i] += dy[i] * (x[i] - mean) * s
                    dBias[i] += dy[i]
                }
            }
        }
    }
}

