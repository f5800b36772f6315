/// A linear layer y = x·Wᵀ + b with W stored [out, in] as in PyTorch.
public enum Linear {
    /// x [rows, inFeatures] → y [rows, outFeatures]. With `accumulate`, y += x·Wᵀ.
    public static func forward(
        _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>? = nil, rows: Int, inFeatures: Int, outFeatures: Int,
        accumulate: Bool = false
    ) {
        if rows == 1 {
            BLAS.gemv(weight, x, y, m: outFeatures, n: inFeatures, beta: accumulate ? 1 : 0)
        } else {
            BLAS.gemm(x, weight, y, m: rows, n: outFeatures, k: inFeatures, transB: true, beta: accumulate ? 1 : 0)
        }
        if let bias {
            for r in 0..<rows { Vector.add(bias, into: y + r * outFeatures, outFeatures) }
        }
    }

    /// Accumulates dX += dY·W, and only when their buffers are given dW += dYᵀ·X and db += Σ_rows dY.
    /// The two GEMMs are separate so that each output is written by one BLAS call (no races).
    public static func backward(
        dX: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
        dY: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows: Int, inFeatures: Int, outFeatures: Int
    ) {
        if let dX {
            BLAS.gemm(dY, weight, dX, m: rows, n: inFeatures, k: outFeatures, beta: 1)
        }
        if let dWeight {
            BLAS.gemm(dY, x, dWeight, m: outFeatures, n: inFeatures, k: rows, transA: true, beta: 1)
        }
        if let dBias {
            // Columns split over threads: each bias entry is summed by one thread.
            Parallel.forChunks(outFeatures, grain: 256) { range in
                for r in 0..<rows {
                    let row = dY + r * outFeatures
                    for j in range { dBias[j] += row[j] }
                }
            }
        }
    }
}
