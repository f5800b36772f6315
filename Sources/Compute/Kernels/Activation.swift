import Foundation

/// SwiGLU, the Qwen3 MLP's gating: out = silu(gate) ⊙ up, silu(x) = x·sigmoid(x).
public enum SwiGLU {
    /// `out` may alias `gate` or `up`.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int
    ) {
        Parallel.forChunks(count, grain: 1 << 14) { range in
            for i in range {
                let g = gate[i]
                out[i] = g / (1 + expf(-g)) * up[i]
            }
        }
    }

    /// dGate += dOut·up·σ(g)(1 + g(1 − σ(g))), dUp += dOut·silu(g).
    public static func backward(
        dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int
    ) {
        Parallel.forChunks(count, grain: 1 << 14) { range in
            for i in range {
                let g = gate[i], s = 1 / (1 + expf(-g)), dy = dOut[i]
                dGate[i] += dy * up[i] * s * (1 + g * (1 - s))
                dUp[i] += dy * g * s
            }
        }
    }
}
