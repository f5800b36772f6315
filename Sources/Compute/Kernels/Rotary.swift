import Foundation

/// Rotary position embedding in the split-half form of transformers' `rotate_half`:
/// for x = [x₁; x₂] (each half of the head), out = [x₁·cos − x₂·sin; x₂·cos + x₁·sin].
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    /// inv_freq[i] = 1 / θ^(2i/headDim), computed in float32 as the reference does.
    public let inverseFrequencies: [Float]

    public init(headDim: Int, theta: Double) {
        precondition(headDim % 2 == 0, "rotary embedding needs an even head_dim, got \(headDim)")
        self.headDim = headDim
        let base = Float(theta)
        inverseFrequencies = (0..<headDim / 2).map { i in 1 / powf(base, Float(2 * i) / Float(headDim)) }
    }

    /// cos and sin tables [positions.count, headDim/2] for the given absolute positions.
    public func tables(positions: Range<Int>) -> (cos: Tensor, sin: Tensor) {
        let half = headDim / 2
        let cos = Tensor(zeros: [positions.count, half]), sin = Tensor(zeros: [positions.count, half])
        for (t, p) in positions.enumerated() {
            for i in 0..<half {
                let angle = Float(p) * inverseFrequencies[i]
                cos.data[t * half + i] = cosf(angle)
                sin.data[t * half + i] = sinf(angle)
            }
        }
        return (cos, sin)
    }

    /// Rotates x [tokens, heads, headDim] in place; `sign` −1 applies the inverse rotation (backward).
    public func apply(
        _ x: UnsafeMutablePointer<Float>, cos: Tensor, sin: Tensor, tokens: Int, heads: Int, sign: Float = 1
    ) {
        let half = headDim / 2, dim = headDim
        Parallel.forChunks(tokens * heads, grain: 64) { range in
            for row in range {
                let t = row / heads
                let c = cos.data + t * half, s = sin.data + t * half
                let x1 = x + row * dim, x2 = x1 + half
                for i in 0..<half {
                    let a = x1[i], b = x2[i], si = sign * s[i]
                    x1[i] = a * c[i] - b * si
                    x2[i] = b * c[i] + a * si
                }
            }
        }
    }

    /// Backward in place on the gradient dx [tokens, heads, headDim]: the rotation is orthogonal, so
    /// the gradient goes back through its inverse (the transpose), the rotation by −angle.
    public func backward(_ dx: UnsafeMutablePointer<Float>, cos: Tensor, sin: Tensor, tokens: Int, heads: Int) {
        apply(dx, cos: cos, sin: sin, tokens: tokens, heads: heads, sign: -1)
    }
}
