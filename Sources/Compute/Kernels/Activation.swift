import Foundation

/// SwiGLU, the Qwen3 MLP's gating: out = silu(gate) ⊙ up, silu(x) = x·sigmoid(x).
/// Sixteen lanes at a time with `Vector.exp` (one libm call per element would dominate).
public enum SwiGLU {
    /// `out` may alias `gate` or `up`.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int
    ) {
        Parallel.forChunks(count, grain: 1 << 14) { range in
            forwardSpan(out + range.lowerBound, gate: gate + range.lowerBound, up: up + range.lowerBound, count: range.count)
        }
    }

    /// The same over a fused buffer whose rows are [gate | up], [rows, 2·width] → out [rows, width]
    /// (the output of one GEMM with the stacked gate and up weights).
    public static func forward(_ out: UnsafeMutablePointer<Float>, gateUp: UnsafePointer<Float>, rows: Int, width: Int) {
        Parallel.forChunks(rows, grain: max(1, (1 << 14) / max(width, 1))) { range in
            for r in range {
                let g = gateUp + 2 * r * width
                forwardSpan(out + r * width, gate: g, up: g + width, count: width)
            }
        }
    }

    @inline(__always)
    static func forwardSpan(_ out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let g = Vector.load(gate + i)
            Vector.store(g / (1 + Vector.exp(-g)) * Vector.load(up + i), out + i)
            i += 16
        }
        while i < count {
            let g = gate[i]
            out[i] = g / (1 + expf(-g)) * up[i]
            i += 1
        }
    }

    /// dGate += dOut·up·σ(g)(1 + g(1 − σ(g))), dUp += dOut·silu(g).
    public static func backward(
        dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int
    ) {
        Parallel.forChunks(count, grain: 1 << 14) { range in
            let o = range.lowerBound
            backwardSpan(dGate: dGate + o, dUp: dUp + o, dOut: dOut + o, gate: gate + o, up: up + o, count: range.count)
        }
    }

    /// The same over fused [gate | up] rows: dGateUp [rows, 2·width] += …, dOut [rows, width].
    public static func backward(
        dGateUp: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, gateUp: UnsafePointer<Float>, rows: Int, width: Int
    ) {
        Parallel.forChunks(rows, grain: max(1, (1 << 14) / max(width, 1))) { range in
            for r in range {
                let g = gateUp + 2 * r * width, dg = dGateUp + 2 * r * width
                backwardSpan(dGate: dg, dUp: dg + width, dOut: dOut + r * width, gate: g, up: g + width, count: width)
            }
        }
    }

    @inline(__always)
    static func backwardSpan(
        dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int
    ) {
        var i = 0
        while i + 16 <= count {
            let g = Vector.load(gate + i), dy = Vector.load(dOut + i)
            let s = 1 / (1 + Vector.exp(-g))
            Vector.store(Vector.load(dGate + i) + dy * Vector.load(up + i) * s * (1 + g * (1 - s)), dGate + i)
            Vector.store(Vector.load(dUp + i) + dy * g * s, dUp + i)
            i += 16
        }
        while i < count {
            let g = gate[i], s = 1 / (1 + expf(-g)), dy = dOut[i]
            dGate[i] += dy * up[i] * s * (1 + g * (1 - s))
            dUp[i] += dy * g * s
            i += 1
        }
    }
}
