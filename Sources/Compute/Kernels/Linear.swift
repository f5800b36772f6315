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

    /// Copies the column blocks of src [rows, Σ widths] into their own [rows, width] buffers: the
    /// output of a fused projection (q|k|v) split into what the next kernels read.
    public static func splitColumns(_ src: UnsafePointer<Float>, rows: Int, into parts: [(UnsafeMutablePointer<Float>, Int)]) {
        let total = parts.reduce(0) { $0 + $1.1 }
        Parallel.forChunks(rows, grain: 64) { range in
            for r in range {
                var column = 0
                for (dst, width) in parts {
                    (dst + r * width).update(from: src + r * total + column, count: width)
                    column += width
                }
            }
        }
    }

    /// The inverse of `splitColumns`: dst [rows, Σ widths] from the blocks (gradients of a fused
    /// projection's outputs, for its one dX GEMM).
    public static func joinColumns(_ parts: [(UnsafePointer<Float>, Int)], rows: Int, into dst: UnsafeMutablePointer<Float>) {
        let total = parts.reduce(0) { $0 + $1.1 }
        Parallel.forChunks(rows, grain: 64) { range in
            for r in range {
                var column = 0
                for (src, width) in parts {
                    (dst + r * total + column).update(from: src + r * width, count: width)
                    column += width
                }
            }
        }
    }
}
