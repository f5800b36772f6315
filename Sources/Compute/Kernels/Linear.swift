/// A linear layer y = x·Wᵀ + b with W stored [out, in] as in PyTorch.
public enum Linear {
    /// x [rows, inFeatures] → y [rows, outFeatures]. With `accumulate`, y += x·Wᵀ.
    public static func forward(
        _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>? = nil, rows: Int, inFeatures: Int, outFeatures: Int,
        accumulate: Bool = false
    ) {
        if rows == 1 {
            Backend.gemv(weight, x, y, m: outFeatures, n: inFeatures, beta: accumulate ? 1 : 0)
        } else {
            Backend.gemm(x, weight, y, m: rows, n: outFeatures, k: inFeatures, transB: true, beta: accumulate ? 1 : 0)
        }
        addBias(bias, to: y, rows: rows, outFeatures: outFeatures)
    }

    /// The same with a weight matrix in the element type it was stored in (bfloat16 widened inside the kernel).
    public static func forward(
        _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: WeightMatrix,
        bias: UnsafePointer<Float>? = nil, rows: Int, inFeatures: Int, outFeatures: Int,
        accumulate: Bool = false
    ) {
        guard let bits = weight.bfloat16 else {
            forward(y, x, weight: weight.data, bias: bias, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, accumulate: accumulate)
            return
        }
        if rows == 1 {
            Backend.gemv(bfloat16: bits, x, y, m: outFeatures, n: inFeatures, beta: accumulate ? 1 : 0)
        } else {
            Backend.gemm(x, bfloat16: bits, y, m: rows, n: outFeatures, k: inFeatures, transB: true, beta: accumulate ? 1 : 0)
        }
        addBias(bias, to: y, rows: rows, outFeatures: outFeatures)
    }

    private static func addBias(_ bias: UnsafePointer<Float>?, to y: UnsafeMutablePointer<Float>, rows: Int, outFeatures: Int) {
        guard let bias else { return }
        for r in 0..<rows { Vector.add(bias, into: y + r * outFeatures, outFeatures) }
    }

    /// Accumulates dX += dY·W, and only when their buffers are given dW += dYᵀ·X and db += Σ_rows dY.
    /// The two GEMMs are separate so that each output is written by one BLAS call (no races).
    public static func backward(
        dX: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
        dY: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows: Int, inFeatures: Int, outFeatures: Int
    ) {
        if let dX {
            Backend.gemm(dY, weight, dX, m: rows, n: inFeatures, k: outFeatures, beta: 1)
        }
        weightAndBiasGradients(dWeight: dWeight, dBias: dBias, dY: dY, x: x, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
    }

    /// The same with a weight matrix in its stored element type; a bfloat16 one is frozen, so only
    /// dX flows through it (dW and db read dY and x alone).
    public static func backward(
        dX: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
        dY: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: WeightMatrix,
        rows: Int, inFeatures: Int, outFeatures: Int
    ) {
        guard let bits = weight.bfloat16 else {
            backward(dX: dX, dWeight: dWeight, dBias: dBias, dY: dY, x: x, weight: weight.data, rows: rows, inFeatures: inFeatures,
                     outFeatures: outFeatures)
            return
        }
        if let dX {
            Backend.gemm(dY, bfloat16: bits, dX, m: rows, n: inFeatures, k: outFeatures, beta: 1)
        }
        weightAndBiasGradients(dWeight: dWeight, dBias: dBias, dY: dY, x: x, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
    }

    /// dW += dYᵀ·X and db += Σ_rows dY, each only when its buffer is given.
    private static func weightAndBiasGradients(
        dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?, dY: UnsafePointer<Float>, x: UnsafePointer<Float>,
        rows: Int, inFeatures: Int, outFeatures: Int
    ) {
        if let dWeight {
            Backend.gemm(dY, x, dWeight, m: outFeatures, n: inFeatures, k: rows, transA: true, beta: 1)
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
