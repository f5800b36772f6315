import Compute

/// MemoryNorm (method.md §11): y = x / sqrt(mean(x²) + ε) · g with the backbone's ε; g = 1 at init.
public final class MemoryNorm {
    public let weight: Tensor, gradient: Tensor
    public let eps: Float

    public init(dim: Int, eps: Float) {
        weight = Tensor(zeros: [dim])
        weight.fill(1)
        gradient = Tensor(zeros: [dim])
        self.eps = eps
    }

    public func parameters(_ prefix: String) -> [MemoryParameter] { [("\(prefix).weight", weight, gradient)] }

    /// out [rows, D]; `rstd` [rows] receives what backward needs.
    public func forward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rstd: UnsafeMutablePointer<Float>?, rows: Int) {
        RMSNorm.forward(out, x, weight: weight.data, rstd: rstd, rows: rows, dim: weight.count, eps: eps)
    }

    /// dX += d(out)/dX ᵀ dOut; the weight gradient accumulates.
    public func backward(dX: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int) {
        RMSNorm.backward(dInp: dX, dWeight: gradient.data, dOut: dOut, inp: x, weight: weight.data, rstd: rstd, rows: rows, dim: weight.count)
    }
}
