import Compute

/// A trainable parameter: its checkpoint name (method.md §11), value and gradient buffer.
public typealias MemoryParameter = (name: String, value: Tensor, grad: Tensor)

/// A bias-free linear map of the memory modules, full rank (`weight` [out, in]) or rank-r factorised
/// (`a` [r, in], `b` [out, r], W = b·a; method.md §11). y = x·Wᵀ.
public final class MemoryLinear {
    public let inFeatures: Int, outFeatures: Int
    /// 0: full rank.
    public let rank: Int
    /// [weight] at full rank, [a, b] when factorised; gradients alongside.
    public let tensors: [Tensor]
    public let gradients: [Tensor]

    /// Zero tensors of the right shapes.
    public init(inFeatures: Int, outFeatures: Int, rank: Int) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.rank = rank
        let shapes = rank == 0 ? [[outFeatures, inFeatures]] : [[rank, inFeatures], [outFeatures, rank]]
        tensors = shapes.map { Tensor(zeros: $0) }
        gradients = shapes.map { Tensor(zeros: $0) }
    }

    /// The tensor names after `prefix` (`q_proj`): `weight`, or `a` and `b`.
    public var suffixes: [String] { rank == 0 ? ["weight"] : ["a", "b"] }

    public func parameters(_ prefix: String) -> [MemoryParameter] {
        (0..<tensors.count).map { ("\(prefix).\(suffixes[$0])", tensors[$0], gradients[$0]) }
    }

    /// y [rows, out] = x [rows, in]·Wᵀ (y += with `accumulate`).
    public func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, accumulate: Bool = false) {
        guard rows > 0 else { return }
        if rank == 0 {
            Linear.forward(y, x, weight: tensors[0].data, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, accumulate: accumulate)
            return
        }
        let h = Tensor(zeros: [rows, rank])
        Linear.forward(h.data, x, weight: tensors[0].data, rows: rows, inFeatures: inFeatures, outFeatures: rank)
        Linear.forward(y, h.data, weight: tensors[1].data, rows: rows, inFeatures: rank, outFeatures: outFeatures, accumulate: accumulate)
    }

    /// Accumulates the weight gradients and, when given, dX += dY·W. Factorised: h = x·aᵀ is
    /// recomputed; db += dYᵀ·h, dh = dY·b, da += dhᵀ·x, dX += dh·a.
    public func backward(dX: UnsafeMutablePointer<Float>?, dY: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int) {
        guard rows > 0 else { return }
        if rank == 0 {
            Linear.backward(dX: dX, dWeight: gradients[0].data, dBias: nil, dY: dY, x: x, weight: tensors[0].data,
                            rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
            return
        }
        let h = Tensor(zeros: [rows, rank]), dh = Tensor(zeros: [rows, rank])
        Linear.forward(h.data, x, weight: tensors[0].data, rows: rows, inFeatures: inFeatures, outFeatures: rank)
        Linear.backward(dX: dh.data, dWeight: gradients[1].data, dBias: nil, dY: dY, x: h.data, weight: tensors[1].data,
                        rows: rows, inFeatures: rank, outFeatures: outFeatures)
        Linear.backward(dX: dX, dWeight: gradients[0].data, dBias: nil, dY: dh.data, x: x, weight: tensors[0].data,
                        rows: rows, inFeatures: inFeatures, outFeatures: rank)
    }
}
