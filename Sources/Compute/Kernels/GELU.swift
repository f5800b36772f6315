import Foundation

/// GELU in its exact form, gelu(x) = x/2 · (1 + erf(x/√2)): BERT's `hidden_act: "gelu"`.
public enum GELU {
    /// In place on `count` values.
    public static func forward(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.707_106_781_186_547_524
        Parallel.forChunks(count, grain: 1 << 14) { range in
            for i in range {
                let v = x[i]
                x[i] = 0.5 * v * (1 + erff(v * invSqrt2))
            }
        }
    }
}
