import Foundation

/// GELU in its exact form, gelu(x) = x/2 · (1 + erf(x/√2)): BERT's `hidden_act: "gelu"`.
///
/// erf is Abramowitz & Stegun 7.1.26, the formula of PyTorch's vectorised CPU kernel:
/// erf(|x|) = 1 − t·P(t)·exp(−x²), t = 1/(1 + 0.3275911·|x|), within 1.5e-7 of erf. It runs 16 lanes
/// at a time; libm's erff per element cost a sixth of a MiniLM forward pass.
public enum GELU {
    public typealias V = SIMD16<Float>

    /// In place on `count` values.
    public static func forward(_ x: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forChunks(count, grain: 1 << 14) { range in
            var i = range.lowerBound
            while i + 16 <= range.upperBound {
                Vector.store(gelu(Vector.load(x + i)), x + i)
                i += 16
            }
            if i < range.upperBound {
                var tail = V(repeating: 0)
                for j in 0..<(range.upperBound - i) { tail[j] = x[i + j] }
                let y = gelu(tail)
                for j in 0..<(range.upperBound - i) { x[i + j] = y[j] }
            }
        }
    }

    /// Backward: dInp += dOut · gelu′(x), gelu′(x) = (1 + erf(x/√2))/2 + x·exp(−x²/2)/√(2π).
    /// `dInp` may alias `dOut`.
    public static func backward(_ dInp: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        Parallel.forChunks(count, grain: 1 << 14) { range in
            var i = range.lowerBound
            while i + 16 <= range.upperBound {
                Vector.store(Vector.load(dInp + i) + Vector.load(dOut + i) * derivative(Vector.load(inp + i)), dInp + i)
                i += 16
            }
            if i < range.upperBound {
                var x = V(repeating: 0)
                for j in 0..<(range.upperBound - i) { x[j] = inp[i + j] }
                let d = derivative(x)
                for j in 0..<(range.upperBound - i) { dInp[i + j] += dOut[i + j] * d[j] }
            }
        }
    }

    @inline(__always)
    static func derivative(_ x: V) -> V {
        0.5 * (1 + erf(x * 0.707_106_781_186_547_524)) + x * Vector.exp(-0.5 * x * x) * 0.398_942_280_401_432_678
    }

    @inline(__always)
    public static func gelu(_ x: V) -> V {
        0.5 * x * (1 + erf(x * 0.707_106_781_186_547_524))
    }

    @inline(__always)
    public static func erf(_ x: V) -> V {
        // |x| by clearing the sign bit (pointwiseMax compiles to a scalar loop).
        let a = unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: V.self)
        let t = 1 / (0.327_591_1 * a + 1)
        var p = V(repeating: 1.061_405_429)
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let e = 1 - p * t * Vector.exp(-(a * a))
        return e.replacing(with: -e, where: x .< 0)
    }
}
