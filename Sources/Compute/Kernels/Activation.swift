import Foundation

/// SwiGLU, the Qwen3 MLP's gating: out = silu(gate) ⊙ up, silu(x) = x·sigmoid(x).
/// Sixteen lanes at a time with `Vector.exp` (one libm call per element would dominate).
public enum SwiGLU {
    /// `out` may alias `gate` or `up`.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int
    ) {
        Parallel.forChunks(count, grain: 1 << 14) { range in
            var i = range.lowerBound
            while i + 16 <= range.upperBound {
                let g = Vector.load(gate + i)
                Vector.store(g / (1 + Vector.exp(-g)) * Vector.load(up + i), out + i)
                i += 16
            }
            while i < range.upperBound {
                let g = gate[i]
                out[i] = g / (1 + expf(-g)) * up[i]
                i += 1
            }
        }
    }

    /// dGate += dOut·up·σ(g)(1 + g(1 − σ(g))), dUp += dOut·silu(g).
    public static func backward(
        dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int
    ) {
        Parallel.forChunks(count, grain: 1 << 14) { range in
            var i = range.lowerBound
            while i + 16 <= range.upperBound {
                let g = Vector.load(gate + i), dy = Vector.load(dOut + i)
                let s = 1 / (1 + Vector.exp(-g))
                Vector.store(Vector.load(dGate + i) + dy * Vector.load(up + i) * s * (1 + g * (1 - s)), dGate + i)
                Vector.store(Vector.load(dUp + i) + dy * g * s, dUp + i)
                i += 16
            }
            while i < range.upperBound {
                let g = gate[i], s = 1 / (1 + expf(-g)), dy = dOut[i]
                dGate[i] += dy * up[i] * s * (1 + g * (1 - s))
                dUp[i] += dy * g * s
                i += 1
            }
        }
    }
}
