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
}
