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
}
